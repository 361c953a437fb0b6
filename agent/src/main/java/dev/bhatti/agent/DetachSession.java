package dev.bhatti.agent;

import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Stream;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Starts a command that outlives its request: own session, stdin from /dev/null, stdout and stderr
 * appended to a file owned by the command's user. The JDK's process reaper collects it when it exits.
 */
final class DetachSession {

    private final AgentConfig config;
    private final Stream stream;
    private final Message.DetachRequest request;

    DetachSession(AgentConfig config, Stream stream, Message.DetachRequest request) {
        this.config = config;
        this.stream = stream;
        this.request = request;
    }

    void run() {
        try {
            stream.send(start());
        } catch (IOException e) {
            Log.info("detach on stream " + stream.id() + " lost its channel: " + e.getMessage());
        } finally {
            stream.finish();
        }
    }

    private Message start() {
        if (request.outputFile().indexOf('\0') >= 0) return new Message.Error("bad_request", "output file must not contain NUL bytes");
        Path output = Path.of(request.outputFile());
        if (!output.isAbsolute()) return new Message.Error("bad_request", "output file must be an absolute path");
        ProcessBuilder pb;
        GuestUser user;
        switch (Launch.prepare(config, request.argv(), request.env(), request.cwd(), request.user())) {
            case Launch.Invalid i -> { return new Message.Error("bad_request", i.message()); }
            case Launch.NotRunnable n -> { return new Message.Error("not_runnable", n.message()); }
            case Launch.Ready r -> { pb = r.builder(); user = r.user(); }
        }
        try {
            if (Files.isDirectory(output)) return new Message.Error("bad_request", "output file is a directory: " + output);
            Files.createDirectories(output.getParent());
            Files.write(output, new byte[0], StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            if (config.runningAsRoot()) {
                // The command's own user must be able to read and rotate its log.
                Files.setAttribute(output, "unix:uid", user.uid(), LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(output, "unix:gid", user.gid(), LinkOption.NOFOLLOW_LINKS);
            }
            Process p = pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                    .start();
            Libc.resetOomScore(p.pid());
            config.contain("detached", p.pid());
            Log.info("detached pid " + p.pid() + ": " + String.join(" ", request.argv()));
            return new Message.Detached(p.pid(), output.toString());
        } catch (IOException | RuntimeException e) {
            return new Message.Error("spawn_failed", "could not start " + request.argv().getFirst() + ": " + e.getMessage());
        }
    }
}
