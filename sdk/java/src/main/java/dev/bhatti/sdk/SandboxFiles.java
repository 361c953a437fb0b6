package dev.bhatti.sdk;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * A sandbox's files, by absolute guest path. Writes replace the file atomically (owned by the sandbox's
 * default user); reads and writes stream, so a large file is never held whole unless asked for as
 * bytes or a string. Reads wake a sleeping sandbox.
 */
public final class SandboxFiles {
    private final Transport t;
    private final Sandbox sandbox;

    SandboxFiles(Transport t, Sandbox sandbox) {
        this.t = t;
        this.sandbox = sandbox;
    }

    /** Writes {@code text} as UTF-8. */
    public void write(String path, String text) {
        write(path, Validate.notNull("text", text).getBytes(StandardCharsets.UTF_8));
    }

    public void write(String path, byte[] data) { write(path, data, -1); }

    /** Writes {@code data} with permission bits {@code mode} (0 to 0777, like {@code 0600}). */
    public void write(String path, byte[] data, int mode) {
        Validate.notNull("data", data);
        put(path, mode, HttpRequest.BodyPublishers.ofByteArray(data));
    }

    /** Writes what {@code data} gives, sent as it is read (chunked). The stream is read to its end, not closed. */
    public void write(String path, InputStream data) {
        Validate.notNull("data", data);
        put(path, -1, HttpRequest.BodyPublishers.ofInputStream(() -> data));
    }

    /** Uploads the local file {@code source}. */
    public void upload(Path source, String path) { upload(source, path, -1); }

    /** Uploads the local file {@code source} with permission bits {@code mode}. */
    public void upload(Path source, String path, int mode) {
        Validate.notNull("source", source);
        if (!Files.isRegularFile(source)) throw new IllegalArgumentException("no such local file: " + source);
        HttpRequest.BodyPublisher body;
        try {
            body = HttpRequest.BodyPublishers.ofFile(source);
        } catch (FileNotFoundException e) {
            throw new IllegalArgumentException("no such local file: " + source);
        }
        put(path, mode, body);
    }

    private void put(String path, int mode, HttpRequest.BodyPublisher body) {
        String query = query(path);
        if (mode != -1) query += "&mode=" + String.format("%04o", Validate.range("mode", mode, 0, 0777));
        var request = t.request("PUT", query, body, t.requestTimeout).header("Content-Type", "application/octet-stream").build();
        HttpResponse<InputStream> r = t.open(request);
        try (InputStream in = r.body()) {
            in.readAllBytes();
        } catch (IOException e) {
            throw new ConnectionFailed("writing " + path + " to " + t.config.url() + ": the answer broke off: " + Transport.describe(e), e);
        }
    }

    /** The file's bytes. */
    public byte[] read(String path) {
        try (InputStream in = open(path)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw broken(path, e);
        }
    }

    /** The file's text, decoded as UTF-8. */
    public String readString(String path) { return new String(read(path), StandardCharsets.UTF_8); }

    /**
     * The file's content as it streams from the guest; close it. A transfer that breaks off makes
     * its reads throw {@link IOException}. A missing file is {@link NotFound}, here, before any read.
     */
    public InputStream open(String path) {
        var request = t.request("GET", query(path), HttpRequest.BodyPublishers.noBody(), t.requestTimeout)
                .header("Accept", "application/octet-stream").build();
        return t.open(request).body();
    }

    /** Copies the file into the local file {@code target} (replaced only once it is whole); returns its size. */
    public long download(String path, Path target) {
        Validate.notNull("target", target);
        Path dir = target.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) throw new IllegalArgumentException("no such local directory: " + dir);
        Path part = null;
        try (InputStream in = open(path)) {
            part = Files.createTempFile(dir, "." + target.getFileName(), ".part");
            long n = Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            part = null;
            return n;
        } catch (IOException e) {
            throw broken(path, e);
        } finally {
            if (part != null) {
                try {
                    Files.deleteIfExists(part);
                } catch (IOException ignored) {
                    // a leftover temp file; the error that matters is thrown
                }
            }
        }
    }

    /** A directory's entries. */
    public FileListing list(String dir) {
        JsonNode answer = t.call("GET", query(dir) + "&ls=true", null);
        try {
            if (answer.isArray()) return new FileListing(entries(answer), answer.size(), false);
            if (answer.isObject() && answer.path("entries").isArray()) {
                List<FileEntry> entries = entries(answer.path("entries"));
                return new FileListing(entries, answer.path("total").asLong(entries.size()), answer.path("truncated").asBoolean(false));
            }
        } catch (JacksonException e) {
            // below
        }
        throw new ServerError("the daemon answered a listing of " + dir + " that is not the API's JSON", 0);
    }

    private static List<FileEntry> entries(JsonNode array) {
        return List.copyOf(Arrays.asList(Json.MAPPER.treeToValue(array, FileEntry[].class)));
    }

    /** A file's metadata ({@link NotFound} if it does not exist); its mtime is not known this way (null). */
    public FileEntry stat(String path) {
        var request = t.request("HEAD", query(path), HttpRequest.BodyPublishers.noBody(), t.requestTimeout).build();
        HttpResponse<Void> r = t.exchange(request, HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() / 100 != 2) throw Errors.forStatus(r.statusCode(), new byte[0], r.headers().firstValue("Retry-After").orElse(null));
        var h = r.headers();
        String trimmed = path.replaceAll("/+$", "");
        String name = trimmed.isEmpty() ? "/" : trimmed.substring(trimmed.lastIndexOf('/') + 1);
        return new FileEntry(name, h.firstValueAsLong("X-File-Size").orElse(0), h.firstValue("X-File-Mode").orElse(""),
                Boolean.parseBoolean(h.firstValue("X-File-Is-Dir").orElse("false")), h.firstValue("X-File-Type").orElse(""), (Instant) null);
    }

    /** Whether {@code path} exists in the guest. */
    public boolean exists(String path) {
        try {
            stat(path);
            return true;
        } catch (NotFound e) {
            return false;
        }
    }

    private String query(String path) {
        return sandbox.path("/files?path=" + Transport.segment(Validate.guestPath("path", path)));
    }

    private ConnectionFailed broken(String path, IOException e) {
        return new ConnectionFailed("reading " + path + " from " + t.config.url() + " broke off: " + Transport.describe(e), e);
    }

}
