package dev.bhatti.server.testing;

import dev.bhatti.testkit.LocalRegistry;
import dev.bhatti.testkit.OciImage;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * One anonymous {@link LocalRegistry} for a whole test run, holding {@code demo/tool:1}: one gzip layer with
 * {@code /etc/os-release} ({@code ID=test}), {@code GREETING=hi} in its env, {@code /srv} its working dir.
 * A test class that pulls it declares {@code @ExtendWith(DemoRegistry.Extension.class)} and takes a
 * {@code DemoRegistry} parameter; the registry starts on first use and stops when the run ends. Tests may
 * push more images into it under repositories of their own.
 */
public record DemoRegistry(LocalRegistry registry, Path dir, byte[] layer) implements AutoCloseable {
    public static final String IMAGE = "demo/tool:1";

    /** {@code 127.0.0.1:<port>/repoAndTag}. */
    public String reference(String repoAndTag) { return registry.reference(repoAndTag); }

    /** Resolves {@link DemoRegistry} parameters to the run's one registry. */
    public static final class Extension implements ParameterResolver {
        @Override
        public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
            return parameter.getParameter().getType() == DemoRegistry.class;
        }

        @Override
        public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
            return context.getRoot().getStore(ExtensionContext.Namespace.create(DemoRegistry.class))
                    .computeIfAbsent(DemoRegistry.class, k -> start(), DemoRegistry.class);
        }
    }

    private static DemoRegistry start() {
        try {
            Path dir = Files.createTempDirectory("bhatti-demo-registry-");
            var registry = new LocalRegistry(Files.createDirectories(dir.resolve("registry")));
            Path tree = Files.createDirectories(dir.resolve("tree/etc"));
            Files.writeString(tree.resolve("os-release"), "ID=test\n");
            var tar = new ByteArrayOutputStream();
            Process p = new ProcessBuilder("tar", "-C", dir.resolve("tree").toString(), "-cf", "-", "etc").start();
            try (var gz = new GZIPOutputStream(tar)) {
                p.getInputStream().transferTo(gz);
            }
            if (p.waitFor() != 0) throw new IllegalStateException("tar failed");
            byte[] layer = tar.toByteArray();
            Path file = Files.write(Files.createDirectories(dir.resolve("layers")).resolve("layer.tar.gz"), layer);
            registry.push(OciImage.layout(dir.resolve("oci"), "{\"Env\":[\"PATH=/usr/bin:/bin\",\"GREETING=hi\"],\"WorkingDir\":\"/srv\"}",
                    List.of(file)), IMAGE);
            return new DemoRegistry(registry, dir, layer);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("the demo registry did not start", e);
        }
    }

    @Override
    public void close() throws IOException {
        registry.close();
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
