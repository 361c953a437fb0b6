package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.engine.FileSink;
import dev.bhatti.engine.GuestFile;
import dev.bhatti.engine.ReadRange;
import dev.bhatti.server.sandbox.Limits;
import dev.bhatti.server.sandbox.SandboxService;
import dev.bhatti.server.store.UserRecord;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /sandboxes/{id}/files?path=P}: GET streams a file (or lists a directory with {@code ls=true}),
 * HEAD answers its metadata in headers, PUT replaces it atomically with the request body. Content
 * streams through in both directions; nothing is held whole in memory.
 */
final class FilesRoute {

    /** Largest upload accepted; the guest's disk is the real limit. */
    static final long MAX_UPLOAD = 4L * 1024 * 1024 * 1024;

    private final SandboxService sandboxes;

    FilesRoute(SandboxService sandboxes) { this.sandboxes = sandboxes; }

    List<Route> routes() {
        Endpoint files = c -> {
            Object body = handle(c.user(), c.param("id"), c.request(), c.response(), c.callback());
            return body == null ? Reply.STREAMED : Reply.ok(body);
        };
        return List.of(Route.keyed("GET", "/sandboxes/{id}/files", files), Route.keyed("PUT", "/sandboxes/{id}/files", files),
                Route.keyed("HEAD", "/sandboxes/{id}/files", files));
    }

    /** Returns null when it has written the response itself. */
    Object handle(UserRecord user, String id, Request request, Response response, Callback callback) throws IOException {
        Fields query = QueryParameters.of(request);
        String path = query.getValue("path");
        if (path == null || path.isEmpty()) throw DomainException.invalid("query parameter 'path' is required");
        if (path.indexOf('\0') >= 0 || path.length() > 4096) throw DomainException.invalid("invalid path");
        return switch (request.getMethod()) {
            case "GET" -> "true".equals(query.getValue("ls")) ? list(user, id, path) : read(user, id, path, range(query), response, callback);
            case "HEAD" -> head(user, id, path, response, callback);
            case "PUT" -> write(user, id, path, query, request);
            default -> throw DomainException.notAllowed("method not allowed");
        };
    }

    private static ReadRange range(Fields query) {
        return new ReadRange(number(query, "offset"), number(query, "limit"), number(query, "max_bytes"));
    }

    private static long number(Fields query, String name) {
        String v = query.getValue(name);
        if (v == null || v.isEmpty()) return 0;
        try {
            long n = Long.parseLong(v);
            if (n < 0) throw DomainException.invalid(name + " must be >= 0");
            return n;
        } catch (NumberFormatException e) {
            throw DomainException.invalid(name + " must be a whole number");
        }
    }

    private Object read(UserRecord user, String id, String path, ReadRange range, Response response, Callback callback) {
        var sink = new FileSink() {
            OutputStream out;

            @Override
            public void begin(GuestFile file) {
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
                // the size as stat saw it when the read began; no Content-Length from it (the body is chunked):
                // a file may grow or shrink while read, and some (/proc, /sys) have a size that is not their length
                response.getHeaders().put("X-File-Size", Long.toString(file.size()));
                response.getHeaders().put("X-File-Mode", octal(file.mode()));
                out = Content.Sink.asOutputStream(response);
            }

            @Override
            public void data(byte[] bytes) throws IOException {
                out.write(bytes);
            }
        };
        try {
            sandboxes.onRunning(user, id, guest -> {
                guest.readFile(path, range, sink);
                return null;
            });
        } catch (DomainException e) {
            if (!response.isCommitted()) { // nothing sent yet: a normal (JSON) error reply
                response.reset();
                response.getHeaders().put("X-Bhatti-Version", ApiHandler.VERSION);
                throw e;
            }
            callback.failed(e); // headers are out: cut the response so the client sees it broke
            return null;
        }
        try {
            sink.out.close();
            callback.succeeded();
        } catch (IOException e) {
            callback.failed(e);
        }
        return null;
    }

    private Object head(UserRecord user, String id, String path, Response response, Callback callback) {
        GuestFile f = sandboxes.onRunning(user, id, guest -> guest.statFile(path));
        response.setStatus(200);
        response.getHeaders().put("X-File-Size", Long.toString(f.size()));
        response.getHeaders().put("X-File-Mode", octal(f.mode()));
        response.getHeaders().put("X-File-Type", f.type());
        response.getHeaders().put("X-File-Is-Dir", Boolean.toString(f.type().equals("dir")));
        callback.succeeded();
        return null;
    }

    private Object write(UserRecord user, String id, String path, Fields query, Request request) {
        int mode = Limits.fileMode(query.getValue("mode"));
        String owner = query.getValue("user") == null ? "" : query.getValue("user");
        if (!owner.isEmpty() && !owner.matches("[a-z_][a-z0-9_-]{0,31}|[0-9]{1,10}")) throw DomainException.invalid("invalid user name");
        long declared = request.getLength();
        if (declared > MAX_UPLOAD) throw DomainException.tooLarge("file larger than " + MAX_UPLOAD + " bytes");
        InputStream body = new Capped(Content.Source.asInputStream(request), MAX_UPLOAD);
        GuestFile f = sandboxes.onRunning(user, id, guest -> guest.writeFile(path, mode, owner, body));
        var reply = new LinkedHashMap<String, Object>();
        reply.put("status", "ok");
        reply.put("path", path);
        reply.put("size", f.size());
        reply.put("mode", octal(f.mode()));
        return reply;
    }

    private Object list(UserRecord user, String id, String path) {
        var listing = sandboxes.onRunning(user, id, guest -> guest.listFiles(path));
        List<Map<String, Object>> entries = listing.entries().stream().map(FilesRoute::entry).toList();
        if (listing.total() > entries.size()) {
            return Map.of("entries", entries, "total", listing.total(), "truncated", true);
        }
        return entries;
    }

    private static Map<String, Object> entry(GuestFile f) {
        var m = new LinkedHashMap<String, Object>();
        m.put("name", f.name());
        m.put("size", f.size());
        m.put("mode", octal(f.mode()));
        m.put("is_dir", f.type().equals("dir"));
        m.put("type", f.type());
        m.put("mtime", Instant.ofEpochMilli(f.mtimeMillis()).toString());
        return m;
    }

    static String octal(int mode) { return String.format("%04o", mode); }

    /** Fails the upload once more than {@code limit} bytes arrive (a chunked body has no length). */
    private static final class Capped extends FilterInputStream {
        private final long limit;
        private long seen;

        Capped(InputStream in, long limit) {
            super(in);
            this.limit = limit;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0 && (seen += n) > limit) throw new IOException("upload larger than " + limit + " bytes");
            return n;
        }

        @Override
        public int read() throws IOException {
            int c = super.read();
            if (c >= 0 && ++seen > limit) throw new IOException("upload larger than " + limit + " bytes");
            return c;
        }
    }
}
