package dev.bhatti.server.net;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import java.net.StandardProtocolFamily;

/**
 * Opens sockets in the sandboxes' network namespace. A socket belongs to the namespace of the thread
 * that created it, for life; so one platform thread enters the namespace (setns affects only the
 * calling thread) and creates every such socket, which any thread may then use. Without a namespace
 * sockets are opened directly.
 */
final class NetnsSockets implements AutoCloseable {
    private static final int O_RDONLY_CLOEXEC = 0x80000;
    private static final int CLONE_NEWNET = 0x40000000;

    private final ExecutorService thread;

    NetnsSockets(String netns) throws NetworkException {
        if (netns == null) {
            thread = null;
            return;
        }
        // a platform thread: setns must stay on the OS thread that made the call
        thread = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon().name("netns-" + netns).unstarted(r));
        try {
            thread.submit(() -> { enter(netns); return null; }).get();
        } catch (ExecutionException e) {
            thread.shutdownNow();
            throw new NetworkException("cannot enter network namespace " + netns + ": " + e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            thread.shutdownNow();
            throw new NetworkException("interrupted entering network namespace " + netns);
        }
    }

    DatagramChannel datagram() throws IOException {
        return inside(() -> DatagramChannel.open(StandardProtocolFamily.INET));
    }

    ServerSocketChannel serverSocket() throws IOException {
        return inside(() -> ServerSocketChannel.open(StandardProtocolFamily.INET));
    }

    SocketChannel socket() throws IOException {
        return inside(() -> SocketChannel.open(StandardProtocolFamily.INET));
    }

    <T> T inside(Callable<T> open) throws IOException {
        if (thread == null) {
            try {
                return open.call();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            }
        }
        try {
            return thread.submit(open).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) throw io;
            throw new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }

    private static void enter(String netns) throws Exception {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        MethodHandle open = linker.downcallHandle(libc.find("open").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        MethodHandle setns = linker.downcallHandle(libc.find("setns").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        MethodHandle close = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment path = arena.allocateFrom("/run/netns/" + netns);
            int fd = (int) open.invokeExact(path, O_RDONLY_CLOEXEC);
            if (fd < 0) throw new IOException("/run/netns/" + netns + " cannot be opened (does the namespace exist?)");
            try {
                if ((int) setns.invokeExact(fd, CLONE_NEWNET) != 0) throw new IOException("setns failed (the daemon must run as root)");
            } finally {
                int ignored = (int) close.invokeExact(fd);
            }
        } catch (Throwable t) {
            if (t instanceof Exception e) throw e;
            throw new IOException(t);
        }
    }

    @Override
    public void close() {
        if (thread != null) thread.shutdownNow();
    }
}
