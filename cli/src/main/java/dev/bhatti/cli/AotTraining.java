package dev.bhatti.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.io.DataInputStream;
import java.io.InputStream;

/**
 * The training run for the client's AOT cache ({@code bin/bhatti} runs it with {@code -XX:AOTCacheOutput}):
 * the commands people run most, in one JVM, against a canned daemon on a loopback port and a refused one,
 * so that the cache holds the classes, linkage and lambdas of parsing, help, config, HTTP and JSON.
 * It prints nothing and touches no real daemon.
 */
public final class AotTraining {
    private AotTraining() {}

    private static final String SANDBOX = """
            {"id":"sb-1","name":"dev","status":"running","thermal":"hot","cpus":1,"memory_mb":512,"image":"minimal",\
            "engine":"qemu","accelerator":"tcg","ip":"10.200.0.2","egress":"all","keep_hot":false,"disk_bytes":1024,\
            "created_at":"2026-01-01T00:00:00Z"}""";

    public static void main(String[] args) throws Exception {
        var out = System.out;
        var err = System.err;
        var quiet = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
        System.setOut(quiet);
        System.setErr(quiet);
        try (var daemon = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread.ofPlatform().daemon().start(() -> answer(daemon));
            String url = "http://127.0.0.1:" + daemon.getLocalPort();
            String refused = refusedUrl();
            for (List<String> command : List.of(
                    List.of("--help"), List.of("--version"), List.of("list", "--help"), List.of("exec", "--help"),
                    List.of("list", "--url", url, "--token", "t"), List.of("ls", "--json", "--url", url, "--token", "t"),
                    List.of("inspect", "dev", "--url", url, "--token", "t"), List.of("exec", "dev", "--url", url, "--token", "t", "--", "true"),
                    List.of("version", "--url", url), List.of("list", "--url", refused), List.of("lst"))) {
                BhattiCli.run(command.toArray(String[]::new));
            }
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    private static String refusedUrl() throws IOException {
        try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return "http://127.0.0.1:" + s.getLocalPort();
        }
    }

    /** Reads one request (head and Content-Length body) and returns its request line. */
    private static String readRequest(InputStream in) throws IOException {
        var reader = new DataInputStream(in);
        String requestLine = null;
        long length = 0;
        for (String line; (line = readLine(reader)) != null && !line.isEmpty(); ) {
            if (requestLine == null) requestLine = line;
            else if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) length = Long.parseLong(line.substring(15).strip());
        }
        reader.skipNBytes(length);
        return requestLine == null ? "" : requestLine;
    }

    private static String readLine(InputStream in) throws IOException {
        var line = new StringBuilder();
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) return line.isEmpty() ? null : line.toString();
            if (b != '\r') line.append((char) b);
        }
        return line.toString();
    }

    /** A stand-in daemon: one canned answer per request path. */
    private static void answer(ServerSocket daemon) {
        while (true) {
            try (var socket = daemon.accept()) {
                var in = socket.getInputStream();
                String response = readRequest(in);
                String body = response.contains("/exec") ? "{\"exit_code\":0,\"stdout\":\"\",\"stderr\":\"\",\"timed_out\":false}"
                        : response.contains(" /sandboxes ") ? "[" + SANDBOX + "]"
                        : response.contains(" /sandboxes/") ? SANDBOX : "{\"status\":\"ok\"}";
                byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Bhatti-Version: training\r\n"
                        + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().write(bytes);
            } catch (IOException e) {
                return;
            }
        }
    }
}
