package dev.bhatti.engine.agent;

import dev.bhatti.engine.GuestSession;
import dev.bhatti.engine.SessionChannel;
import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Stream;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** A session attachment over one stream. */
record AgentSession(Stream stream, GuestSession session) implements SessionChannel {
    @Override
    public Event next(long millis) throws IOException, InterruptedException {
        Message m = stream.poll(millis, TimeUnit.MILLISECONDS);
        return switch (m) {
            case null -> null;
            case Message.Data d -> new Output(d.bytes());
            case Message.Exit x -> new Exited(x.exitCode());
            case Message.Error e -> new Ended(e.message());
            default -> next(1);
        };
    }

    @Override public void input(byte[] bytes) throws IOException { stream.send(new Message.Data(Message.Channel.STDIN, bytes)); }

    @Override public void resize(int rows, int cols) throws IOException { stream.send(new Message.Resize(rows, cols)); }

    @Override public void signal(int signal) throws IOException { stream.send(new Message.Kill(signal)); }

    @Override
    public void close() {
        try {
            stream.send(new Message.Detach());
        } catch (IOException ignored) {
            // the channel is gone: the agent detaches by itself
        }
        stream.finish();
    }
}
