package dev.bhatti.testkit;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Test images as skopeo reads them: an OCI layout holding one manifest of the given compressed layers
 * (gzip or zstd, told by their names) and a config whose {@code config} part is given as JSON; or a
 * layout holding an image index of such images, one per platform.
 */
public final class OciImage {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private OciImage() {}

    /** Writes the layout of a linux/amd64 image into {@code out} and returns it. */
    public static Path layout(Path out, String runConfigJson, List<Path> layers) throws Exception {
        return layout(out, "amd64", runConfigJson, layers);
    }

    /** Writes the layout of a linux image for {@code architecture} into {@code out} and returns it. */
    public static Path layout(Path out, String architecture, String runConfigJson, List<Path> layers) throws Exception {
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
                {"architecture":"%s","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]}}"""
                .formatted(architecture, runConfigJson, String.join(",", diffIds)).getBytes(StandardCharsets.UTF_8);
        String configDigest = blob(blobs, config);
        byte[] manifest = """
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
                 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[%s]}"""
                .formatted(configDigest, config.length, String.join(",", descriptors)).getBytes(StandardCharsets.UTF_8);
        String manifestDigest = blob(blobs, manifest);
        writeTop(out, "application/vnd.oci.image.manifest.v1+json", manifestDigest, manifest.length);
        return out;
    }

    /**
     * Writes into {@code out} a layout whose {@code latest} is an image index of the images of
     * {@code layouts} (each made by {@link #layout}), every entry with the platform its config names:
     * a multi-platform image as buildx pushes it.
     */
    public static Path index(Path out, List<Path> layouts) throws Exception {
        Path blobs = Files.createDirectories(out.resolve("blobs/sha256"));
        var entries = new ArrayList<String>();
        for (Path layout : layouts) {
            try (var files = Files.list(layout.resolve("blobs/sha256"))) {
                for (Path f : files.toList()) Files.copy(f, blobs.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
            JsonNode manifest = JSON.readTree(layout.resolve("index.json").toFile()).path("manifests").get(0);
            JsonNode config = read(blobs, read(blobs, manifest.path("digest").asString()).path("config").path("digest").asString());
            entries.add("{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%d,\"platform\":{\"architecture\":\"%s\",\"os\":\"%s\"}}".formatted(
                    manifest.path("mediaType").asString(), manifest.path("digest").asString(), manifest.path("size").asLong(),
                    config.path("architecture").asString(), config.path("os").asString()));
        }
        byte[] index = """
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}"""
                .formatted(String.join(",", entries)).getBytes(StandardCharsets.UTF_8);
        writeTop(out, "application/vnd.oci.image.index.v1+json", blob(blobs, index), index.length);
        return out;
    }

    /** {@code content} gzipped into {@code out}: a layer as far as digests go (never extracted, so not a tar). */
    public static Path gzip(byte[] content, Path out) throws IOException {
        try (var gz = new GZIPOutputStream(Files.newOutputStream(out))) {
            gz.write(content);
        }
        return out;
    }

    /** A gzip layer of everything under {@code tree}, owners and modes as they are there, written to {@code out}. */
    public static Path tarGz(Path tree, Path out) throws Exception {
        LocalRegistry.run(List.of("tar", "--numeric-owner", "-C", tree.toString(), "-czf", out.toString(), "."));
        return out;
    }

    /** The layout's index.json: its one manifest (or index), tagged {@code latest}. */
    private static void writeTop(Path out, String mediaType, String digest, int size) throws IOException {
        Files.writeString(out.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Files.writeString(out.resolve("index.json"), """
                {"schemaVersion":2,"manifests":[{"mediaType":"%s","digest":"%s","size":%d,
                 "annotations":{"org.opencontainers.image.ref.name":"latest"}}]}""".formatted(mediaType, digest, size));
    }

    private static String blob(Path blobs, byte[] content) throws Exception {
        String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        Files.write(blobs.resolve(hex), content);
        return "sha256:" + hex;
    }

    private static JsonNode read(Path blobs, String digest) {
        return JSON.readTree(blobs.resolve(digest.substring("sha256:".length())).toFile());
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
