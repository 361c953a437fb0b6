package dev.bhatti.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.DataInputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;

class OldClassFilesTest {

    @TempDir Path dir;

    @Test
    void picocliBecomesJava8ClassFilesThatTheVerifierAccepts() throws Exception {
        Path jar = dir.resolve("picocli.jar");
        Files.copy(Path.of(CommandLine.class.getProtectionDomain().getCodeSource().getLocation().toURI()), jar);
        assertThat(versions(jar)).contains(49); // what picocli ships: Java 5

        OldClassFiles.main(new String[]{jar.toString()});

        assertThat(versions(jar)).containsOnly(52);
        // loaded and initialised in a loader of their own: each class is verified with its new stack maps
        try (var loader = new URLClassLoader(new URL[]{jar.toUri().toURL()}, null)) {
            for (String name : classNames(jar)) Class.forName(name, true, loader);
            Class<?> cl = Class.forName("picocli.CommandLine", true, loader);
            assertThat(cl.getClassLoader()).isSameAs(loader);
        }
    }

    @Test
    void aJarWithoutOldClassesIsLeftAlone() throws Exception {
        Path jar = dir.resolve("picocli.jar");
        Files.copy(Path.of(CommandLine.class.getProtectionDomain().getCodeSource().getLocation().toURI()), jar);
        OldClassFiles.main(new String[]{jar.toString()});
        byte[] once = Files.readAllBytes(jar);
        OldClassFiles.main(new String[]{jar.toString()});
        assertThat(Files.readAllBytes(jar)).isEqualTo(once);
    }

    private static List<Integer> versions(Path jar) throws Exception {
        var versions = new ArrayList<Integer>();
        try (var zip = new ZipFile(jar.toFile())) {
            for (var e : Collections.list(zip.entries())) {
                if (!e.getName().endsWith(".class") || e.getName().endsWith("module-info.class")) continue;
                try (var in = new DataInputStream(zip.getInputStream(e))) {
                    in.readInt();
                    in.readUnsignedShort();
                    versions.add(in.readUnsignedShort());
                }
            }
        }
        return versions;
    }

    private static List<String> classNames(Path jar) throws Exception {
        try (var zip = new ZipFile(jar.toFile())) {
            return Collections.list(zip.entries()).stream().map(e -> e.getName())
                    .filter(n -> n.endsWith(".class") && !n.contains("-info"))
                    .map(n -> n.substring(0, n.length() - ".class".length()).replace('/', '.')).toList();
        }
    }
}
