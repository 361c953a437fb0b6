package dev.bhatti.cli;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The seams between the modules and inside the server, held by a test: the protocol needs nothing,
 * the engine knows no HTTP and no store, the server's core knows no HTTP (status codes are the API's
 * business), the CLI reaches the server only through its operator surface, and the Java SDK knows none
 * of them. (The agent and the bench have tests of their own; Maven keeps the agent off everything but the protocol.)
 */
class ArchitectureTest {
    private static JavaClasses classes;

    /** Where the HTTP world lives: servers, clients, status codes. */
    private static final String[] HTTP = {"org.eclipse.jetty..", "jakarta.servlet..", "java.net.http.."};

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.bhatti");
    }

    @Test
    void theProtocolNeedsNothingButTheJdk() {
        classes().that().resideInAPackage("dev.bhatti.protocol..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("dev.bhatti.protocol..", "java..")
                .check(classes);
    }

    @Test
    void theEngineKnowsNoHttpNoStoreAndNoServer() {
        classes().that().resideInAPackage("dev.bhatti.engine..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("dev.bhatti.engine..", "dev.bhatti.protocol..", "java..", "org.slf4j..")
                .check(classes);
    }

    @Test
    void theServersCoreKnowsNoHttp() {
        noClasses().that().resideInAnyPackage("dev.bhatti.server.sandbox..", "dev.bhatti.server.store..", "dev.bhatti.server.secrets..",
                        "dev.bhatti.server.net..", "dev.bhatti.server.events..", "dev.bhatti.server.auth..", "dev.bhatti.server.ratelimit..",
                        "dev.bhatti.server.forward..", "dev.bhatti.server.error..", "dev.bhatti.server.publish..", "dev.bhatti.server.quota..",
                        "dev.bhatti.server.volume..", "dev.bhatti.server.task..", "dev.bhatti.server.metrics..", "dev.bhatti.server.desktop..")
                .should().dependOnClassesThat().resideInAnyPackage(HTTP)
                .orShould().dependOnClassesThat().resideInAnyPackage("dev.bhatti.server.api..", "dev.bhatti.server.proxy..")
                .check(classes);
    }

    @Test
    void theApiReachesAVmOnlyThroughAGuest() {
        // the API reaches a VM's inside through a Guest handed to it, never through the engine itself
        noClasses().that().resideInAnyPackage("dev.bhatti.server.api..", "dev.bhatti.server.proxy..")
                .should().dependOnClassesThat().haveFullyQualifiedName("dev.bhatti.engine.Engine")
                .orShould().dependOnClassesThat().resideInAnyPackage("dev.bhatti.engine.qemu..", "dev.bhatti.engine.agent..")
                .check(classes);
    }

    @Test
    void theSdkKnowsNothingOfTheDaemonsModules() {
        // a client of the REST API like any other program: the JDK and Jackson, nothing else
        classes().that().resideInAPackage("dev.bhatti.sdk..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("dev.bhatti.sdk..", "java..", "tools.jackson..")
                .check(classes);
    }

    @Test
    void theCliReachesTheServerOnlyThroughItsOperatorSurface() {
        // the daemon (serve), its configuration, and the local admin commands on the database (user, admin)
        classes().that().resideInAPackage("dev.bhatti.cli..")
                .should().onlyDependOnClassesThat().resideOutsideOfPackages("dev.bhatti.engine..", "dev.bhatti.server.api..",
                        "dev.bhatti.server.sandbox..", "dev.bhatti.server.net..", "dev.bhatti.server.proxy..", "dev.bhatti.server.publish..",
                        "dev.bhatti.server.secrets..", "dev.bhatti.server.forward..", "dev.bhatti.server.tls..", "dev.bhatti.server.ratelimit..",
                        "dev.bhatti.server.events..", "dev.bhatti.server.volume..")
                .check(classes);
    }
}
