package dev.bhatti.agent;

import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Message.Channel;
import dev.bhatti.protocol.Stream;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A recursive watch of a guest path, streamed to the host as JSON lines until the host ends the stream.
 * inotify directly rather than java.nio's WatchService: that one is not recursive (a watch per directory
 * by hand anyway), reports only create/modify/delete (no moves, no directory flag), and on some JDKs and
 * file systems falls back to polling. Three threads: a platform thread reads inotify (poll(2) blocks),
 * a virtual thread sends queued events (blocked by the host's flow-control window when the host does not
 * read), and the request's thread waits for the host to end the stream. When the host stops reading, the
 * {@link EventQueue} fills and the watch is dropped with an "overflow" error: the guest forgets it at once.
 */
final class FileWatchSession {

    /** Watches the whole agent holds at once (the host allows fewer per sandbox; this guards the guest). */
    static final int MAX_WATCHES = 64;
    /** Events waiting for a host that does not read before the watch is dropped. */
    static final int MAX_WAITING = 16_384;
    private static final AtomicInteger ACTIVE = new AtomicInteger();

    private final AgentConfig config;
    private final Stream stream;
    private final AtomicReference<Message> ending = new AtomicReference<>();
    private volatile boolean stopping;

    FileWatchSession(AgentConfig config, Stream stream) {
        this.config = config;
        this.stream = stream;
    }

    /** Watches in the agent now (tests and the guest's own diagnostics). */
    static int active() { return ACTIVE.get(); }

    void run(Message.FileWatch request) {
        boolean counted = false;
        try {
            if (request.path().isEmpty() || request.path().indexOf('\0') >= 0) {
                stream.send(new Message.Error("bad_request", "path must be a non-empty string without NUL bytes"));
                return;
            }
            Path root = config.workspace().resolve(request.path()).normalize();
            BasicFileAttributes attrs;
            try {
                attrs = Files.readAttributes(root, BasicFileAttributes.class);
            } catch (IOException e) {
                stream.send(FileSession.failure(e, request.path()));
                return;
            }
            if (ACTIVE.incrementAndGet() > MAX_WATCHES) {
                ACTIVE.decrementAndGet();
                stream.send(new Message.Error("limit", "the guest agent already runs " + MAX_WATCHES + " file watches"));
                return;
            }
            counted = true;
            try (Inotify inotify = Inotify.open()) {
                var tree = new WatchTree(inotify, root, attrs.isDirectory(), System::currentTimeMillis);
                int rc = tree.start();
                if (rc < 0) {
                    stream.send(new Message.Error(rc == -Inotify.ENOENT ? "not_found" : "io_error",
                            "cannot watch " + request.path() + " (errno " + -rc + ")"));
                    return;
                }
                stream.send(new Message.FileInfo(root.toString(), attrs.size(), 0, attrs.isDirectory() ? "dir" : "file",
                        attrs.lastModifiedTime().toMillis()));
                watch(inotify, tree);
            }
        } catch (IOException e) {
            Log.info("file watch on stream " + stream.id() + " lost its channel: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (counted) ACTIVE.decrementAndGet();
            stream.finish();
        }
    }

    private void watch(Inotify inotify, WatchTree tree) throws InterruptedException, IOException {
        var queue = new EventQueue(MAX_WAITING);
        Thread reader = Thread.ofPlatform().daemon().name("file-watch-" + stream.id()).start(() -> read(inotify, tree, queue));
        Thread sender = Thread.ofVirtual().start(() -> send(queue));
        boolean hostEnded = false;
        try {
            while (!stopping) {
                Message m = stream.poll(200, TimeUnit.MILLISECONDS);
                if (m instanceof Message.Error || m instanceof Message.Eof) {
                    hostEnded = true;
                    break;
                }
            }
        } catch (IOException e) {
            hostEnded = true; // the channel is gone: nobody to tell
        } finally {
            stopping = true;
            reader.join(); // before the instance is closed: its descriptor must not be reused under the reader
            // only a watch whose root went sends what is left (then its exit); otherwise unsent events are dropped
            if (hostEnded || !(ending.get() instanceof Message.Exit)) sender.interrupt();
            sender.join();
        }
        Message last = ending.get();
        if (!hostEnded && last != null) stream.send(last);
    }

    private void read(Inotify inotify, WatchTree tree, EventQueue queue) {
        byte[] buf = new byte[64 * 1024];
        var out = new ArrayList<WatchEvent>();
        try {
            while (!stopping) {
                for (Inotify.Event e : inotify.read(buf, 200)) tree.translate(e, out);
                for (WatchEvent e : out) {
                    if (!queue.add(e)) {
                        end(new Message.Error("overflow", "the watch was dropped: its client fell behind by more than "
                                + MAX_WAITING + " events"));
                        return;
                    }
                }
                out.clear();
                if (tree.rootGone()) {
                    queue.close(); // the sender sends what is left, then the exit
                    return;
                }
            }
        } catch (IOException | RuntimeException e) {
            end(new Message.Error("io_error", "watching failed: " + e.getMessage()));
        }
    }

    private void send(EventQueue queue) {
        try {
            while (true) {
                List<WatchEvent> batch = queue.take(1, TimeUnit.SECONDS);
                if (batch == null) break;
                if (batch.isEmpty()) continue;
                var lines = new StringBuilder(batch.size() * 100);
                for (WatchEvent e : batch) lines.append(e.json());
                stream.send(new Message.Data(Channel.STDOUT, lines.toString().getBytes(StandardCharsets.UTF_8)));
            }
            end(new Message.Exit(0, false)); // the root went and everything before it was sent
        } catch (IOException e) {
            stopping = true; // the host ended the stream or the channel is gone
        } catch (InterruptedException e) {
            // dropped
        }
    }

    private void end(Message last) {
        ending.compareAndSet(null, last);
        stopping = true;
    }
}
