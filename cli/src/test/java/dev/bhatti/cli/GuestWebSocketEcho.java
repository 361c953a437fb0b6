package dev.bhatti.cli;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * A WebSocket server (RFC 6455) that runs inside a guest, on its java.base-only runtime: the tests
 * upload this class and start it there. It greets with what it was told (Host, chosen subprotocol,
 * X-Forwarded-Host, Cookie), echoes messages whole, answers pings, and obeys a few text commands:
 * {@code close CODE}, {@code big N} (one N-byte binary frame) and {@code ping X} (it pings, and reports
 * the pong). A path containing {@code reject} is refused with 403; a plain GET gets 200.
 * One file, no nested classes, so that one .class file is all the guest needs.
 */
public final class GuestWebSocketEcho {
    private GuestWebSocketEcho() {}

    public static void main(String[] args) throws IOException {
        try (var server = new ServerSocket(Integer.parseInt(args[0]))) {
            while (true) {
                Socket s = server.accept();
                Thread.ofVirtual().start(() -> {
                    try (s) {
                        serve(s);
                    } catch (IOException | RuntimeException e) {
                        // the client went away
                    }
                });
            }
        }
    }

    static void serve(Socket s) throws IOException {
        var in = new DataInputStream(s.getInputStream());
        OutputStream out = new java.io.BufferedOutputStream(s.getOutputStream(), 1 << 16);
        String head = readHead(in);
        String[] lines = head.split("\r\n");
        String path = lines[0].split(" ")[1];
        Map<String, String> headers = new HashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            if (c > 0) headers.put(lines[i].substring(0, c).trim().toLowerCase(), lines[i].substring(c + 1).trim());
        }
        if (path.contains("reject")) {
            out.write("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return;
        }
        String key = headers.get("sec-websocket-key");
        if (key == null) {
            byte[] body = ("plain " + path + "\n").getBytes(StandardCharsets.UTF_8);
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            return;
        }
        String protocol = null;
        for (String p : headers.getOrDefault("sec-websocket-protocol", "").split(",")) {
            if (p.trim().equals("echo.v1")) protocol = "echo.v1";
        }
        String accept;
        try {
            accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                    .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n"
                + (protocol == null ? "" : "Sec-WebSocket-Protocol: " + protocol + "\r\n") + "\r\n").getBytes(StandardCharsets.US_ASCII));
        send(out, 1, ("hello host=" + headers.get("host") + " protocol=" + protocol + " forwarded-host=" + headers.get("x-forwarded-host")
                + " cookie=" + headers.get("cookie")).getBytes(StandardCharsets.UTF_8));

        var message = new ByteArrayOutputStream();
        int messageOpcode = 0;
        while (true) {
            int b0 = in.readUnsignedByte();
            int b1 = in.readUnsignedByte();
            boolean fin = (b0 & 0x80) != 0;
            int opcode = b0 & 0x0f;
            long len = b1 & 0x7f;
            if (len == 126) len = in.readUnsignedShort();
            else if (len == 127) len = in.readLong();
            byte[] mask = new byte[4];
            if ((b1 & 0x80) != 0) in.readFully(mask);
            byte[] payload = new byte[(int) len];
            in.readFully(payload);
            for (int i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
            switch (opcode) {
                case 8 -> { // close: answer with the same code, then hang up
                    send(out, 8, payload);
                    return;
                }
                case 9 -> send(out, 10, payload);
                case 10 -> send(out, 1, ("pong " + new String(payload, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
                default -> {
                    if (opcode != 0) messageOpcode = opcode;
                    message.write(payload);
                    if (!fin) continue;
                    byte[] whole = message.toByteArray();
                    message.reset();
                    if (messageOpcode == 1 && command(out, new String(whole, StandardCharsets.UTF_8))) continue;
                    send(out, messageOpcode, whole);
                }
            }
        }
    }

    /** Runs a text command; false when the text is not one (it is echoed). */
    static boolean command(OutputStream out, String text) throws IOException {
        String[] w = text.split(" ", 2);
        if (w.length < 2) return false;
        switch (w[0]) {
            case "close" -> {
                int code = Integer.parseInt(w[1]);
                byte[] reason = "bye".getBytes(StandardCharsets.UTF_8);
                byte[] p = new byte[2 + reason.length];
                p[0] = (byte) (code >> 8);
                p[1] = (byte) code;
                System.arraycopy(reason, 0, p, 2, reason.length);
                send(out, 8, p);
                return true;
            }
            case "big" -> {
                byte[] p = new byte[Integer.parseInt(w[1])];
                for (int i = 0; i < p.length; i++) p[i] = (byte) (i % 251);
                send(out, 2, p);
                return true;
            }
            case "ping" -> {
                send(out, 9, w[1].getBytes(StandardCharsets.UTF_8));
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    /** One unmasked frame (servers never mask), however long. */
    static void send(OutputStream out, int opcode, byte[] payload) throws IOException {
        synchronized (out) {
            out.write(0x80 | opcode);
            if (payload.length < 126) {
                out.write(payload.length);
            } else if (payload.length < 65536) {
                out.write(126);
                out.write(payload.length >> 8);
                out.write(payload.length);
            } else {
                out.write(127);
                long l = payload.length;
                for (int i = 7; i >= 0; i--) out.write((int) (l >> (8 * i)));
            }
            out.write(payload);
            out.flush();
        }
    }

    static String readHead(InputStream in) throws IOException {
        var head = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0 || head.size() > 16384) throw new IOException("bad request head");
            head.write(b);
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }
}
