package dev.bhatti.server.volume.backup;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * What one backup is: the volume file's {@code sizeBytes} cut into {@code chunkSize} pieces, each named by
 * its chunk id ({@code null}: all zeros, a hole), and the SHA-256 of the whole file. Stored age-encrypted as
 * {@code <id>.manifest}, the backup's last object; its counts ride along in S3 user metadata for listing.
 */
record Manifest(String volume, String user, Instant createdAt, long sizeBytes, int chunkSize, List<String> chunks,
                String sha256, int uploadedChunks, long uploadedBytes, long millis) {

    static final int FORMAT = 1;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    byte[] toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("volume", volume);
        o.put("user", user);
        o.put("created_at", createdAt.toString());
        o.put("size_bytes", sizeBytes);
        o.put("chunk_size", chunkSize);
        o.put("sha256", sha256);
        o.put("uploaded_chunks", uploadedChunks);
        o.put("uploaded_bytes", uploadedBytes);
        o.put("millis", millis);
        ArrayNode a = o.putArray("chunks");
        for (String c : chunks) {
            if (c == null) a.addNull();
            else a.add(c);
        }
        return JSON.writeValueAsBytes(o);
    }

    /** Parses and checks a decrypted manifest; IllegalArgumentException saying what is wrong. */
    static Manifest parse(byte[] json) {
        JsonNode o;
        try {
            o = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
        }
        if (o == null || !o.isObject()) throw new IllegalArgumentException("not a JSON object");
        if (o.path("format").asInt(-1) != FORMAT) throw new IllegalArgumentException("format " + o.path("format") + ", this daemon reads " + FORMAT);
        long size = o.path("size_bytes").asLong(-1);
        int chunkSize = o.path("chunk_size").asInt(-1);
        if (size < 0 || chunkSize < BackupConfig.MIN_CHUNK || chunkSize > BackupConfig.MAX_CHUNK) {
            throw new IllegalArgumentException("size_bytes " + o.path("size_bytes") + " or chunk_size " + o.path("chunk_size") + " out of range");
        }
        JsonNode a = o.path("chunks");
        if (!a.isArray() || a.size() != chunkCount(size, chunkSize)) throw new IllegalArgumentException("chunks do not cover size_bytes");
        var chunks = new ArrayList<String>(a.size());
        for (JsonNode c : a) {
            if (c.isNull()) chunks.add(null);
            else if (c.isString() && BackupNames.CHUNK_ID.matcher(c.asString()).matches()) chunks.add(c.asString());
            else throw new IllegalArgumentException("a chunk id is not one: " + c);
        }
        String sha = o.path("sha256").asString("");
        if (!BackupNames.CHUNK_ID.matcher(sha).matches()) throw new IllegalArgumentException("sha256 missing");
        Instant createdAt;
        try {
            createdAt = Instant.parse(o.path("created_at").asString(""));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("created_at is not a time: " + o.path("created_at"));
        }
        return new Manifest(o.path("volume").asString(""), o.path("user").asString(""), createdAt, size, chunkSize,
                Collections.unmodifiableList(chunks), sha, o.path("uploaded_chunks").asInt(0), o.path("uploaded_bytes").asLong(0),
                o.path("millis").asLong(0));
    }

    static int chunkCount(long size, int chunkSize) { return Math.toIntExact((size + chunkSize - 1) / chunkSize); }

    BackupInfo info(String id) {
        return new BackupInfo(id, volume, createdAt, sizeBytes, chunks.size(), uploadedChunks, uploadedBytes, millis);
    }

    /** The S3 user metadata of the manifest object: what {@code list} shows without decrypting. */
    Map<String, String> metadata() {
        return Map.of("format", String.valueOf(FORMAT), "created-at", createdAt.toString(), "size-bytes", String.valueOf(sizeBytes),
                "chunk-count", String.valueOf(chunks.size()), "uploaded-chunks", String.valueOf(uploadedChunks),
                "uploaded-bytes", String.valueOf(uploadedBytes), "millis", String.valueOf(millis));
    }

    /** A listing entry from manifest metadata; empty when the store lost or mangled it (then the manifest is read instead). */
    static java.util.Optional<BackupInfo> fromMetadata(String id, String volume, Map<String, String> m) {
        try {
            return java.util.Optional.of(new BackupInfo(id, volume, Instant.parse(m.get("created-at")), Long.parseLong(m.get("size-bytes")),
                    Integer.parseInt(m.get("chunk-count")), Integer.parseInt(m.get("uploaded-chunks")),
                    Long.parseLong(m.get("uploaded-bytes")), Long.parseLong(m.get("millis"))));
        } catch (RuntimeException e) {
            return java.util.Optional.empty();
        }
    }
}
