package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** A sandbox's desktop (the computer tier) through the API: screenshots and input, no VNC needed. */
@Command(name = "desktop", mixinStandardHelpOptions = true,
        description = {"Look at and drive a sandbox's desktop (created with --image computer) without VNC:",
                "  bhatti desktop screenshot desk > s.png",
                "  bhatti desktop click desk 640 400",
                "  bhatti desktop type desk 'hello'",
                "  bhatti desktop key desk ctrl+l",
                "Coordinates are pixels from the top left; 'bhatti desktop size desk' gives the screen's size."},
        subcommands = {DesktopCmd.Screenshot.class, DesktopCmd.Size.class, DesktopCmd.Click.class, DesktopCmd.Move.class,
                DesktopCmd.Type.class, DesktopCmd.Key.class})
final class DesktopCmd {

    static String path(String sandbox, String action) { return "/sandboxes/" + ApiClient.segment(sandbox) + "/desktop/" + action; }

    static Integer post(ClientOptions opts, String sandbox, String action, Map<String, Object> body, String done) throws CliException {
        JsonNode r = opts.client().post(path(sandbox, action), body).body();
        if (opts.json) Output.json(r);
        else System.out.println(done);
        return 0;
    }

    @Command(name = "screenshot", mixinStandardHelpOptions = true,
            description = {"Write the screen as PNG to stdout (redirect it: bhatti desktop screenshot desk > s.png) or to --output.",
                    "Refuses to write the image to a terminal. With --json: {\"format\":\"png\",\"bytes\":N,\"base64\":...}."})
    static final class Screenshot implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(index = "0", paramLabel = "SANDBOX", description = "Name or id") String sandbox;
        @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the PNG to FILE instead of stdout") Path output;

        @Override
        public Integer call() throws CliException {
            boolean terminal = System.console() != null && System.console().isTerminal();
            if (output == null && !opts.json && terminal) {
                throw new CliException("not writing a PNG to a terminal: redirect it (bhatti desktop screenshot " + sandbox
                        + " > s.png) or use --output FILE");
            }
            var png = new ByteArrayOutputStream();
            opts.client().download(path(sandbox, "screenshot"), png);
            byte[] bytes = png.toByteArray();
            try {
                if (opts.json) {
                    var r = new LinkedHashMap<String, Object>();
                    r.put("format", "png");
                    r.put("bytes", bytes.length);
                    if (output != null) r.put("file", output.toString());
                    else r.put("base64", Base64.getEncoder().encodeToString(bytes));
                    if (output != null) Files.write(output, bytes);
                    Output.json(ApiClient.JSON.valueToTree(r));
                } else if (output != null) {
                    Files.write(output, bytes);
                    System.err.println("wrote " + bytes.length + " bytes of PNG to " + output);
                } else {
                    OutputStream out = System.out;
                    out.write(bytes);
                    out.flush();
                }
            } catch (IOException e) {
                throw new CliException("cannot write the screenshot" + (output == null ? "" : " to " + output) + ": " + e.getMessage());
            }
            return 0;
        }
    }

    @Command(name = "size", mixinStandardHelpOptions = true, description = "Print the screen's size (WIDTHxHEIGHT).")
    static final class Size implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(index = "0", paramLabel = "SANDBOX", description = "Name or id") String sandbox;

        @Override
        public Integer call() throws CliException {
            JsonNode r = opts.client().get(path(sandbox, "size")).body();
            if (opts.json) Output.json(r);
            else System.out.println(r.path("width").asInt() + "x" + r.path("height").asInt());
            return 0;
        }
    }

    @Command(name = "click", mixinStandardHelpOptions = true, description = "Move the pointer to X,Y and click.")
    static final class Click implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(index = "0", paramLabel = "SANDBOX", description = "Name or id") String sandbox;
        @Parameters(index = "1", paramLabel = "X", description = "Pixels from the left edge") int x;
        @Parameters(index = "2", paramLabel = "Y", description = "Pixels from the top edge") int y;
        @Option(names = {"-b", "--button"}, paramLabel = "BUTTON", defaultValue = "left",
                description = "left (default), middle, right, wheel-up or wheel-down") String button;
        @Option(names = "--double", description = "Click twice") boolean twice;

        @Override
        public Integer call() throws CliException {
            var body = new LinkedHashMap<String, Object>();
            body.put("x", x);
            body.put("y", y);
            body.put("button", button);
            if (twice) body.put("double_click", true);
            return post(opts, sandbox, "click", body, (twice ? "double-clicked " : "clicked ") + button + " at " + x + "," + y);
        }
    }

    @Command(name = "move", mixinStandardHelpOptions = true, description = "Move the pointer to X,Y.")
    static final class Move implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(index = "0", paramLabel = "SANDBOX", description = "Name or id") String sandbox;
        @Parameters(index = "1", paramLabel = "X", description = "Pixels from the left edge") int x;
        @Parameters(index = "2", paramLabel = "Y", description = "Pixels from the top edge") int y;

        @Override
        public Integer call() throws CliException {
            return post(opts, sandbox, "move", Map.of("x", x, "y", y), "moved the pointer to " + x + "," + y);
        }
    }

    @Command(name = "type", mixinStandardHelpOptions = true,
            description = "Type TEXT into the focused window (at most 4096 characters; '-' reads it from stdin).")
    static final class Type implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(index = "0", paramLabel = "SANDBOX", description = "Name or id") String sandbox;
        @Parameters(index = "1", paramLabel = "TEXT", description = "What to type; - for stdin") String text;

        @Override
        public Integer call() throws CliException {
            String t = text;
            if (t.equals("-")) {
                try {
                    t = new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new CliException("cannot read the text from stdin: " + e.getMessage());
                }
            }
            return post(opts, sandbox, "type", Map.of("text", t), "typed " + t.length() + " characters");
        }
    }

    @Command(name = "key", mixinStandardHelpOptions = true,
            description = {"Press keys: combinations of xdotool key names joined by '+', several separated by spaces.",
                    "  bhatti desktop key desk ctrl+l",
                    "  bhatti desktop key desk Return",
                    "  bhatti desktop key desk ctrl+a BackSpace"})
    static final class Key implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(index = "0", paramLabel = "SANDBOX", description = "Name or id") String sandbox;
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "KEYS", description = "e.g. ctrl+l, Return, alt+F4, shift+Tab")
        java.util.List<String> keys;

        @Override
        public Integer call() throws CliException {
            String all = String.join(" ", keys);
            return post(opts, sandbox, "key", Map.of("keys", all), "pressed " + all);
        }
    }
}
