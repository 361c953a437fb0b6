package dev.bhatti.cli;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.io.Closeable;

/**
 * HTTP/1.1 over a plain socket, one request per connection ({@code Connection: close}). Bodies are
 * sent with a Content-Length or chunked, and read by Content-Length, chunked or up to the end of the stream.
 */
final class PlainHttp implements HttpTransport {
    private static final int MAX_HEAD = 64 * 1024;

    private final Duration connectTimeout;
    private final Duration readTimeout;

    PlainHttp(Duration connectTimeout, Duration readTimeout) {
        this.connectTimeout = connectTimeout;
        this.readTimeout = readTimeout;
    }

    @Override
    public Response exchange(Request request) throws IOException {
        var uri = request.uri();
        int port = uri.getPort() < 0 ? 80 : uri.getPort();
        var socket = new Socket();
        try {
            try {
                socket.connect(new InetSocketAddress(uri.getHost(), port), (int) connectTimeout.toMillis());
            } catch (SocketTimeoutException e) {
                throw new SocketTimeoutException("HTTP connect timed out");
            } catch (UnknownHostException e) {
                throw new ConnectException("unknown host " + uri.getHost());
            }
            socket.setSoTimeout((int) readTimeout.toMillis());
            socket.setTcpNoDelay(true);
            var out = new BufferedOutputStream(socket.getOutputStream(), 16 * 1024);
            IOException unsent = null;
            try {
                writeHead(out, request, uri.getHost() + (uri.getPort() < 0 ? "" : ":" + port));
                if (request.stream() != null) writeChunked(out, request.stream());
                else if (request.body() != null) out.write(request.body());
                out.flush();
            } catch (SocketTimeoutException e) {
                throw e;
            } catch (IOException e) {
                // A server may refuse a request before reading its whole body (an import whose name is taken)
                // and close: its answer is what the user needs, not the broken pipe it left us with.
                unsent = e;
            }
            var in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
            if (unsent == null) return readResponse(in, request.method(), socket);
            try {
                return readResponse(in, request.method(), socket);
            } catch (IOException e) {
                unsent.addSuppressed(e);
                throw unsent;
            }
        } catch (SocketTimeoutException e) {
            socket.close();
            throw e.getMessage() != null && e.getMessage().startsWith("HTTP connect") ? e : new SocketTimeoutException("request timed out");
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private static void writeHead(OutputStream out, Request request, String host) throws IOException {
        var uri = request.uri();
        String target = (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        var head = new StringBuilder(256).append(request.method()).append(' ').append(target).append(" HTTP/1.1\r\n")
                .append("Host: ").append(host).append("\r\n")
                .append("Connection: close\r\n")
                .append("User-Agent: bhatti-cli/").append(VersionCmd.VERSION).append("\r\n");
        request.headers().forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        if (request.stream() != null) head.append("Transfer-Encoding: chunked\r\n");
        else if (request.body() != null) head.append("Content-Length: ").append(request.body().length).append("\r\n");
        head.append("\r\n");
        out.write(head.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static void writeChunked(OutputStream out, InputStream content) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        for (int n; (n = content.read(buffer)) >= 0; ) {
            if (n == 0) continue;
            out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(buffer, 0, n);
            out.write('\r');
            out.write('\n');
        }
        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    static Response readResponse(InputStream in, String method, Closeable connection) throws IOException {
        while (true) {
            String statusLine = line(in);
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/")) throw new IOException("not an HTTP response: " + statusLine);
            int status;
            try {
                status = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new IOException("not an HTTP response: " + statusLine);
            }
            Map<String, String> headers = new LinkedHashMap<>();
            for (String h; !(h = line(in)).isEmpty(); ) {
                int colon = h.indexOf(':');
                if (colon > 0) headers.putIfAbsent(h.substring(0, colon).strip().toLowerCase(Locale.ROOT), h.substring(colon + 1).strip());
            }
            if (status / 100 == 1 && status != 101) continue; // 100 Continue and the like: the real answer follows
            InputStream body;
            String length = headers.get("content-length");
            if (method.equals("HEAD") || status == 204 || status == 304) body = InputStream.nullInputStream();
            else if (headers.getOrDefault("transfer-encoding", "").toLowerCase(Locale.ROOT).contains("chunked")) body = new Chunked(in);
            else if (length != null) body = new Bounded(in, Long.parseLong(length.strip()));
            else body = in;
            return new Response(status, headers, new ClosingStream(body, connection));
        }
    }

    private static String line(InputStream in) throws IOException {
        var buffer = new ByteArrayOutputStream(64);
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) throw new IOException("connection closed in the middle of a response head");
            if (buffer.size() > MAX_HEAD) throw new IOException("response head too long");
            if (b != '\r') buffer.write(b);
        }
        return buffer.toString(StandardCharsets.ISO_8859_1);
    }

    /** Closes the connection with the body. */
    private static final class ClosingStream extends FilterInputStream {
        private final Closeable connection;

        ClosingStream(InputStream body, Closeable connection) {
            super(body);
            this.connection = connection;
        }

        @Override
        public void close() throws IOException { connection.close(); }
    }

    /** A body of known length. */
    private static final class Bounded extends FilterInputStream {
        private long left;

        Bounded(InputStream in, long length) {
            super(in);
            this.left = length;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) return -1;
            int b = in.read();
            if (b < 0) throw new IOException("connection closed " + left + " bytes before the end of the response");
            left--;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) return -1;
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) throw new IOException("connection closed " + left + " bytes before the end of the response");
            left -= n;
            return n;
        }

        @Override
        public int available() throws IOException { return (int) Math.min(in.available(), left); }
    }

    /** A chunked body, decoded as it arrives (exec streams its output this way). */
    private static final class Chunked extends FilterInputStream {
        private long left;
        private boolean done;

        Chunked(InputStream in) { super(in); }

        private boolean ready() throws IOException {
            if (done) return false;
            if (left > 0) return true;
            String size = line(in);
            int semicolon = size.indexOf(';');
            try {
                left = Long.parseLong((semicolon < 0 ? size : size.substring(0, semicolon)).strip(), 16);
            } catch (NumberFormatException e) {
                throw new IOException("bad chunk size: " + size);
            }
            if (left == 0) {
                while (!line(in).isEmpty()) { } // trailers
                done = true;
                return false;
            }
            return true;
        }

        private void endOfChunk() throws IOException {
            if (left == 0 && !line(in).isEmpty()) throw new IOException("chunk not followed by CRLF");
        }

        @Override
        public int read() throws IOException {
            if (!ready()) return -1;
            int b = in.read();
            if (b < 0) throw new IOException("connection closed in the middle of a chunk");
            left--;
            endOfChunk();
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) return 0;
            if (!ready()) return -1;
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) throw new IOException("connection closed in the middle of a chunk");
            left -= n;
            endOfChunk();
            return n;
        }

        @Override
        public int available() throws IOException { return done ? 0 : (int) Math.min(in.available(), left); }
    }
}
