package dev.bhatti.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassFileVersion;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * A build step (the cli module runs it on the shaded jar): rewrites class files older than Java 6 as
 * Java 8 class files with stack maps. The JDK's AOT cache leaves such old classes out, so picocli's
 * (compiled for Java 5) were parsed and verified again on every client start, some 170 of them. The
 * bytecode itself is unchanged: only the version and the stack map frames the newer verifier needs.
 * Usage: {@code OldClassFiles JAR} (rewritten in place; a jar without old classes is left alone).
 */
public final class OldClassFiles {

    private static final int OLDEST_CACHEABLE = ClassFile.JAVA_6_VERSION;

    private OldClassFiles() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 1) throw new IllegalArgumentException("usage: OldClassFiles JAR");
        Path jar = Path.of(args[0]);
        Path out = jar.resolveSibling(jar.getFileName() + ".upgrading");
        int upgraded = 0;
        try (var loader = new URLClassLoader(new URL[]{jar.toUri().toURL()}, null)) {
            // stack maps merge types, so the rewriter must see the jar's own classes as well as the JDK's
            var cf = ClassFile.of(ClassFile.StackMapsOption.GENERATE_STACK_MAPS, ClassFile.ClassHierarchyResolverOption.of(
                    ClassHierarchyResolver.defaultResolver().orElse(ClassHierarchyResolver.ofResourceParsing(loader))));
            ClassTransform upgrade = ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL)
                    .andThen((builder, element) -> {
                        if (element instanceof ClassFileVersion) builder.withVersion(ClassFile.JAVA_8_VERSION, 0);
                        else builder.with(element);
                    });
            try (InputStream raw = Files.newInputStream(jar); var in = new ZipInputStream(raw);
                 OutputStream sink = Files.newOutputStream(out); var zip = new ZipOutputStream(sink)) {
                for (ZipEntry entry; (entry = in.getNextEntry()) != null; ) {
                    byte[] bytes = in.readAllBytes();
                    if (entry.getName().endsWith(".class") && majorVersion(bytes) < OLDEST_CACHEABLE) {
                        bytes = cf.transformClass(cf.parse(bytes), upgrade);
                        upgraded++;
                    }
                    var copy = new ZipEntry(entry.getName());
                    copy.setTime(entry.getTime());
                    zip.putNextEntry(copy);
                    zip.write(bytes);
                    zip.closeEntry();
                }
            }
        }
        if (upgraded == 0) {
            Files.delete(out);
        } else {
            Files.move(out, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        System.out.println("OldClassFiles: " + upgraded + " class files in " + jar.getFileName() + " rewritten for Java 8");
    }

    private static int majorVersion(byte[] classFile) {
        return classFile.length < 8 ? Integer.MAX_VALUE : Short.toUnsignedInt(ByteBuffer.wrap(classFile, 6, 2).getShort());
    }
}
