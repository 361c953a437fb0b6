package dev.bhatti.server.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Test images as skopeo reads them: an OCI layout holding one manifest of the given compressed layers
 * (gzip or zstd, told by their names) and a config whose {@code config} part is given as JSON.
 */
public final class OciImage {
    private OciImage() {}

    /** Writes the layout into {@code out} and returns it. */
    public static Path layout(Path out, String runConfigJson, List<Path> layers) throws Exception {
        Path blobs = Files.createDirectories(out.resolve("blobs/sha256"));
        var descriptors = new ArrayList<String>();
        var diffIds = new ArrayList<String>();
        for (Path layer : layers) {
            boolean zstd = layer.getFileName().toString().endsWith(".zst");
            String digest = blob(blobs, Files.readAllBytes(layer));
            descriptors.add("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+%s\",\"digest\":\"%s\",\"size\":%d}"
                    .formatted(zstd ? "zstd" : "gzip", digest, Files.size(layer)));
            diffIds.add("\"sha256:" + uncompressedDigest(layer, zstd) + "\"");
        }
        byte[] config = """
                {"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]}}"""
                .formatted(runConfigJson, String.join(",", diffIds)).getBytes(StandardCharsets.UTF_8);
        String configDigest = blob(blobs, config);
        byte[] manifest = """
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
                 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[%s]}"""
                .formatted(configDigest, config.length, String.join(",", descriptors)).getBytes(StandardCharsets.UTF_8);
        String manifestDigest = blob(blobs, manifest);
        Files.writeString(out.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Files.writeString(out.resolve("index.json"), """
                {"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,
                 "annotations":{"org.opencontainers.image.ref.name":"latest"}}]}""".formatted(manifestDigest, manifest.length));
        return out;
    }

    /** A gzip layer of everything under {@code tree}, owners and modes as they are there, written to {@code out}. */
    public static Path tarGz(Path tree, Path out) throws Exception {
        LocalRegistry.run(List.of("tar", "--numeric-owner", "-C", tree.toString(), "-czf", out.toString(), "."));
        return out;
    }

    private static String blob(Path blobs, byte[] content) throws Exception {
        String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        Files.write(blobs.resolve(hex), content);
        return "sha256:" + hex;
    }

    private static String uncompressedDigest(Path layer, boolean zstd) throws Exception {
        var sha = MessageDigest.getInstance("SHA-256");
        if (zstd) {
            // the zstd tool, as the extractor uses it
            Process p = new ProcessBuilder("zstd", "-dc", layer.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try (InputStream in = new DigestInputStream(p.getInputStream(), sha)) {
                in.transferTo(OutputStream.nullOutputStream());
            }
            if (p.waitFor() != 0) throw new IOException("zstd -dc " + layer + " failed");
        } else {
            try (InputStream in = new DigestInputStream(new GZIPInputStream(Files.newInputStream(layer)), sha)) {
                in.transferTo(OutputStream.nullOutputStream());
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
