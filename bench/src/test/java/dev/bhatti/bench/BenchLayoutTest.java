package dev.bhatti.bench;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

/** The benchmark measures the product from outside: its classes live in its own packages and use public APIs. */
class BenchLayoutTest {

    @Test
    void everyBenchClassIsInTheBenchsOwnPackages() {
        var bench = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(location -> location.contains("/bench/target/classes/"))
                .importPackages("dev.bhatti");
        classes().should().resideInAPackage("dev.bhatti.bench..").check(bench);
        classes().should().onlyAccessClassesThat().arePublic().orShould().resideInAPackage("dev.bhatti.bench..")
                .because("package-private code of other modules is not the bench's to reach")
                .allowEmptyShould(false).check(bench);
    }
}
