package dev.bhatti.engine.agent;

import dev.bhatti.engine.Detached;
import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.ExecCommand;
import dev.bhatti.engine.ExecListener;
import dev.bhatti.engine.ExecResult;
import dev.bhatti.engine.FileListing;
import dev.bhatti.engine.FileSink;
import dev.bhatti.engine.Guest;
import dev.bhatti.engine.GuestFile;
import dev.bhatti.engine.GuestSession;
import dev.bhatti.engine.ReadRange;
import dev.bhatti.engine.SessionChannel;
import dev.bhatti.engine.SessionOpen;
import dev.bhatti.engine.WatchSink;

import java.io.InputStream;
import java.nio.channels.SocketChannel;
import java.util.List;

/** A {@link Guest} served by the VM's agent, whichever engine runs the VM. */
public final class AgentGuest implements Guest {

    /** The VM's live agent connection, or NOT_RUNNING / NOT_FOUND. */
    @FunctionalInterface
    public interface Agents {
        AgentClient current() throws EngineException, InterruptedException;
    }

    private final Agents agents;

    public AgentGuest(Agents agents) { this.agents = agents; }

    @Override
    public ExecResult exec(ExecCommand command, ExecListener listener) throws EngineException {
        return call(a -> a.exec(command, listener));
    }

    @Override
    public Detached execDetached(ExecCommand command, String outputFile) throws EngineException {
        return call(a -> a.detach(command, outputFile));
    }

    @Override
    public void readFile(String path, ReadRange range, FileSink sink) throws EngineException {
        run(a -> a.readFile(path, range, sink));
    }

    @Override
    public GuestFile writeFile(String path, int mode, String user, InputStream content) throws EngineException {
        return call(a -> a.writeFile(path, mode, user, content));
    }

    @Override
    public GuestFile statFile(String path) throws EngineException { return call(a -> a.statFile(path)); }

    @Override
    public FileListing listFiles(String path) throws EngineException { return call(a -> a.listFiles(path)); }

    @Override
    public void watchFiles(String path, WatchSink sink) throws EngineException { run(a -> a.watchFiles(path, sink)); }

    @Override
    public SessionChannel openSession(SessionOpen open) throws EngineException { return call(a -> a.openSession(open)); }

    @Override
    public List<GuestSession> listSessions() throws EngineException { return call(AgentClient::listSessions); }

    @Override
    public void signalSession(String sessionId, int signal) throws EngineException {
        run(a -> a.signalSession(sessionId, signal));
    }

    @Override
    public void tunnel(int guestPort, SocketChannel client, Runnable beforeClientBytes) throws EngineException {
        run(a -> a.tunnel(guestPort, client, beforeClientBytes));
    }

    private interface Call<T> {
        T on(AgentClient agent) throws EngineException, InterruptedException;
    }

    private interface Action {
        void on(AgentClient agent) throws EngineException, InterruptedException;
    }

    private void run(Action action) throws EngineException {
        call(a -> {
            action.on(a);
            return null;
        });
    }

    private <T> T call(Call<T> call) throws EngineException {
        try {
            return call.on(agents.current());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(EngineException.Kind.FAILED, "interrupted", e);
        }
    }
}
