package dev.bhatti.protocol;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConnectionTest {

    private final AtomicLong bulkSent = new AtomicLong();
    private Connection host;
    private Connection agent;
    private FrameIO agentInput; // raw writes into the agent's side of the channel, beside the host's

    /** Connects a host and an agent whose acceptor runs {@code behaviour} for every stream. */
    private void connect(Behaviour behaviour) throws Exception {
        var toAgent = Pipe.open();
        var toHost = Pipe.open();
        agent = Connection.server(new FrameIO(Channels.newInputStream(toAgent.source()), Channels.newOutputStream(toHost.sink())),
                "test-agent", (stream, opening) -> {
                    try {
                        behaviour.run(stream, (Message.ExecRequest) opening);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
        var toAgentSink = Channels.newOutputStream(toAgent.sink());
        host = Connection.client(new FrameIO(Channels.newInputStream(toHost.source()), toAgentSink), "test-host");
        agentInput = new FrameIO(java.io.InputStream.nullInputStream(), toAgentSink);
        assertThat(host.awaitHello(5, TimeUnit.SECONDS).software()).isEqualTo("test-agent");
    }

    private FrameIO agentInput() { return agentInput; }

    interface Behaviour { void run(Stream s, Message.ExecRequest r) throws Exception; }

    @AfterEach
    void close() {
        if (host != null) host.close();
        if (agent != null) agent.close();
    }

    private static Message.ExecRequest request(String name) {
        return new Message.ExecRequest(List.of(name), Map.of(), "", "", 0, false);
    }

    @Test
    void pingAnswersAndStreamsCarryData() throws Exception {
        connect((s, r) -> {
            s.send(new Message.Data(Message.Channel.STDOUT, r.argv().getFirst().getBytes()));
            s.send(new Message.Exit(3, false));
        });
        host.ping(5, TimeUnit.SECONDS);
        Stream s = host.open(request("hello"));
        assertThat(((Message.Data) s.take()).bytes()).asString().isEqualTo("hello");
        assertThat(s.take()).isEqualTo(new Message.Exit(3, false));
    }

    @Test
    void aStalledBulkStreamHoldsAtMostOneWindowAndDoesNotBlockOthers() throws Exception {
        var bulkDone = new CountDownLatch(1);
        connect((s, r) -> {
            if (r.argv().getFirst().equals("bulk")) {
                byte[] chunk = new byte[Connection.CHUNK];
                for (int i = 0; i < 64; i++) { // 2 MiB, far more than one window
                    s.send(new Message.Data(Message.Channel.STDOUT, chunk));
                    bulkSent.addAndGet(chunk.length);
                }
                s.send(new Message.Exit(0, false));
                bulkDone.countDown();
            } else {
                s.send(new Message.Exit(0, false));
            }
        });
        Stream bulk = host.open(request("bulk"));
        // the host reads nothing from bulk: the agent fills the window and stops there
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> bulkSent.get() >= Connection.INITIAL_WINDOW);
        assertThat(bulkSent.get()).isEqualTo(Connection.INITIAL_WINDOW);
        assertThat(bulkDone.getCount()).as("the sender waits for credit").isEqualTo(1);

        Stream small = host.open(request("small"));
        assertThat(small.poll(5, TimeUnit.SECONDS)).isEqualTo(new Message.Exit(0, false));

        long received = 0;
        Message m;
        while (!((m = bulk.poll(10, TimeUnit.SECONDS)) instanceof Message.Exit)) {
            assertThat(m).isInstanceOf(Message.Data.class);
            received += ((Message.Data) m).bytes().length;
        }
        assertThat(received).isEqualTo(64L * Connection.CHUNK);
        assertThat(bulkDone.await(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aPeerOverrunningItsWindowIsCutOff() throws Exception {
        var toHost = Pipe.open();
        var toAgent = Pipe.open();
        var rawAgent = new FrameIO(Channels.newInputStream(toAgent.source()), Channels.newOutputStream(toHost.sink()));
        host = Connection.client(new FrameIO(Channels.newInputStream(toHost.source()), Channels.newOutputStream(toAgent.sink())), "h");
        rawAgent.write(Codec.encode(0, new Message.Hello(Codec.PROTOCOL_VERSION, "hostile")));
        host.awaitHello(5, TimeUnit.SECONDS);
        Stream s = host.open(request("x"));
        byte[] chunk = new byte[Connection.CHUNK];
        for (int i = 0; i <= Connection.INITIAL_WINDOW / Connection.CHUNK; i++) {
            rawAgent.write(Codec.encode(s.id(), new Message.Data(Message.Channel.STDOUT, chunk)));
        }
        host.closedFuture().get(5, TimeUnit.SECONDS);
        assertThat(host.isOpen()).isFalse();
    }

    @Test
    void aVersionMismatchIsRefusedWithAHint() throws Exception {
        var toHost = Pipe.open();
        var toAgent = Pipe.open();
        var rawAgent = new FrameIO(Channels.newInputStream(toAgent.source()), Channels.newOutputStream(toHost.sink()));
        host = Connection.client(new FrameIO(Channels.newInputStream(toHost.source()), Channels.newOutputStream(toAgent.sink())), "h");
        rawAgent.write(Codec.encode(0, new Message.Hello(99, "future-agent")));
        assertThatThrownBy(() -> host.awaitHello(5, TimeUnit.SECONDS))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("v99").hasMessageContaining("rebuild the guest image");
    }

    @Test
    void anAgentThatRestartsBehindAnOpenConnectionFailsTheLostStreams() throws Exception {
        var toHost = Pipe.open();
        var toAgent = Pipe.open();
        var rawAgent = new FrameIO(Channels.newInputStream(toAgent.source()), Channels.newOutputStream(toHost.sink()));
        host = Connection.client(new FrameIO(Channels.newInputStream(toHost.source()), Channels.newOutputStream(toAgent.sink())), "h");
        rawAgent.write(Codec.encode(0, new Message.Hello(Codec.PROTOCOL_VERSION, "agent-1")));
        host.awaitHello(5, TimeUnit.SECONDS);
        Stream lost = host.open(request("sleep"));
        rawAgent.write(Codec.encode(0, new Message.Hello(Codec.PROTOCOL_VERSION, "agent-2"))); // restarted
        assertThatThrownBy(() -> lost.poll(5, TimeUnit.SECONDS)).isInstanceOf(IOException.class).hasMessageContaining("restarted");
        assertThat(host.isOpen()).as("the connection itself stays usable").isTrue();
        Stream next = host.open(request("again"));
        rawAgent.write(Codec.encode(next.id(), new Message.Exit(0, false)));
        assertThat(next.poll(5, TimeUnit.SECONDS)).isEqualTo(new Message.Exit(0, false));
    }

    @Test
    void aDroppedConnectionFailsOpenStreams() throws Exception {
        connect((s, r) -> Thread.sleep(60_000));
        Stream s = host.open(request("sleep"));
        agent.close();
        assertThatThrownBy(() -> s.poll(5, TimeUnit.SECONDS)).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> host.open(request("again"))).isInstanceOf(IOException.class);
    }

    /**
     * The lost-hello deadlock of a slow wake (issue 14): the agent opened its port and said hello while
     * no host was connected to QEMU's socket, which drops what the guest writes then. The host connects
     * after; its hello must still get an answer.
     */
    @Test
    void aHostWhoseAgentHelloWasLostStillGetsAnAnswer() throws Exception {
        var toHost = Pipe.open();
        var toAgent = Pipe.open();
        var hostConnected = new java.util.concurrent.atomic.AtomicBoolean();
        var guestSide = new java.io.OutputStream() { // QEMU's chardev: drops guest writes while no host is connected
            final java.io.OutputStream real = Channels.newOutputStream(toHost.sink());
            @Override public void write(int b) throws IOException { if (hostConnected.get()) real.write(b); }
            @Override public void write(byte[] b, int off, int len) throws IOException { if (hostConnected.get()) real.write(b, off, len); }
            @Override public void flush() throws IOException { real.flush(); }
        };
        agent = Connection.server(new FrameIO(Channels.newInputStream(toAgent.source()), guestSide), "test-agent",
                (stream, opening) -> {
                    try {
                        stream.send(new Message.Exit(0, false));
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
        hostConnected.set(true);
        host = Connection.client(new FrameIO(Channels.newInputStream(toHost.source()), Channels.newOutputStream(toAgent.sink())), "test-host");
        assertThat(host.awaitHello(5, TimeUnit.SECONDS).software()).isEqualTo("test-agent");
        Stream s = host.open(request("true"));
        assertThat(s.poll(5, TimeUnit.SECONDS)).isEqualTo(new Message.Exit(0, false));
    }

    /** The agent's own hello and its answer to the host's both arrive: the answer is not taken for a restart. */
    @Test
    void theAnswerToTheHostsHelloIsNotTakenForARestart() throws Exception {
        var toHost = Pipe.open();
        var toAgent = Pipe.open();
        var rawAgent = new FrameIO(Channels.newInputStream(toAgent.source()), Channels.newOutputStream(toHost.sink()));
        host = Connection.client(new FrameIO(Channels.newInputStream(toHost.source()), Channels.newOutputStream(toAgent.sink())), "h");
        rawAgent.write(Codec.encode(0, new Message.Hello(Codec.PROTOCOL_VERSION, "agent")));
        host.awaitHello(5, TimeUnit.SECONDS);
        Stream inFlight = host.open(request("sleep"));
        rawAgent.write(Codec.encode(0, new Message.HelloReply(Codec.PROTOCOL_VERSION, "agent")));
        rawAgent.write(Codec.encode(inFlight.id(), new Message.Exit(0, false)));
        assertThat(inFlight.poll(5, TimeUnit.SECONDS)).isEqualTo(new Message.Exit(0, false));
    }

    /** Every hello of a host is answered, a second one (a new host after a restore) too, and it ends the old host's streams. */
    @Test
    @Timeout(20) // a hello left unanswered blocks the raw read below
    void theAgentAnswersEveryHelloOfTheHost() throws Exception {
        var toHost = Pipe.open();
        var toAgent = Pipe.open();
        var started = new CountDownLatch(1);
        var failed = new CountDownLatch(1);
        agent = Connection.server(new FrameIO(Channels.newInputStream(toAgent.source()), Channels.newOutputStream(toHost.sink())),
                "test-agent", (stream, opening) -> {
                    started.countDown();
                    try {
                        stream.poll(30, TimeUnit.SECONDS);
                    } catch (IOException e) {
                        failed.countDown();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
        var rawHost = new FrameIO(Channels.newInputStream(toHost.source()), Channels.newOutputStream(toAgent.sink()));
        assertThat(Codec.decode(rawHost.read()).orElseThrow()).isInstanceOf(Message.Hello.class); // the agent's own
        rawHost.write(Codec.encode(0, new Message.Hello(Codec.PROTOCOL_VERSION, "host-1")));
        assertThat(Codec.decode(rawHost.read()).orElseThrow()).isEqualTo(new Message.HelloReply(Codec.PROTOCOL_VERSION, "test-agent"));
        rawHost.write(Codec.encode(1, request("sleep")));
        assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
        rawHost.write(Codec.encode(0, new Message.Hello(Codec.PROTOCOL_VERSION, "host-2")));
        assertThat(Codec.decode(rawHost.read()).orElseThrow()).isEqualTo(new Message.HelloReply(Codec.PROTOCOL_VERSION, "test-agent"));
        assertThat(failed.await(5, TimeUnit.SECONDS)).as("the first host's stream ended").isTrue();
    }

    /** A virtio port as the agent reads it: chunks of bytes handed in by the test as they come. */
    private static final class FakePort extends java.io.InputStream {
        private final java.util.concurrent.BlockingQueue<byte[]> chunks = new java.util.concurrent.LinkedBlockingQueue<>();
        private byte[] current = new byte[0];
        private int pos;

        void bytes(byte[] b) { chunks.add(b); }
        void frame(int stream, Message m) throws IOException { bytes(wire(Codec.encode(stream, m))); }

        static byte[] wire(Frame f) throws IOException {
            var out = new java.io.ByteArrayOutputStream();
            new FrameIO(java.io.InputStream.nullInputStream(), out).write(f);
            return out.toByteArray();
        }

        @Override public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) return 0; // readNBytes asks for nothing once it has all it wanted
            if (pos == current.length) {
                try {
                    current = chunks.take();
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
                pos = 0;
            }
            int n = Math.min(len, current.length - pos);
            System.arraycopy(current, pos, b, off, n);
            pos += n;
            return n;
        }
    }

    /** An agent serving {@code port} whose streams answer Exit(0) at once; its output goes to {@code toHost}. */
    private Connection agentOn(FakePort port, Pipe toHost) {
        return Connection.server(new FrameIO(port, Channels.newOutputStream(toHost.sink())), "test-agent", (stream, opening) -> {
            try {
                stream.send(new Message.Exit(0, false));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
    }

    /** A host hello that is waiting when the agent starts is answered only after the agent's own hello. */
    @Test
    @Timeout(60)
    void theAgentsHelloComesBeforeItsAnswerToAHelloWaitingAlready() throws Exception {
        for (int i = 0; i < 300; i++) {
            var toHost = Pipe.open();
            var toAgent = Pipe.open();
            var rawHost = new FrameIO(Channels.newInputStream(toHost.source()), Channels.newOutputStream(toAgent.sink()));
            rawHost.write(Codec.encode(0, new Message.Hello(Codec.PROTOCOL_VERSION, "host")));
            var a = Connection.server(new FrameIO(Channels.newInputStream(toAgent.source()), Channels.newOutputStream(toHost.sink())),
                    "test-agent", (stream, opening) -> { });
            try {
                assertThat(Codec.decode(rawHost.read()).orElseThrow()).as("round " + i).isInstanceOf(Message.Hello.class);
                assertThat(Codec.decode(rawHost.read()).orElseThrow()).as("round " + i).isInstanceOf(Message.HelloReply.class);
            } finally {
                a.close();
            }
        }
    }

    /** A request the agent cannot decode fails alone: the connection and the other streams carry on (issue 14). */
    @Test
    void aMalformedRequestEndsOnlyItsOwnStream() throws Exception {
        connect((s, r) -> {
            s.send(new Message.Data(Message.Channel.STDOUT, r.argv().getFirst().getBytes()));
            s.send(new Message.Exit(0, false));
        });
        var rawToAgent = new java.io.ByteArrayOutputStream();
        var out = new java.io.DataOutputStream(rawToAgent);
        out.writeInt(Integer.MAX_VALUE); // an argv count no decoder may believe
        agentInput().write(new Frame(Codec.EXEC_REQUEST, 1001, rawToAgent.toByteArray())); // an opening the agent cannot decode
        Stream ok = host.open(request("second"));
        assertThat(ok.take()).isInstanceOf(Message.Data.class);
        assertThat(host.isOpen()).isTrue();
        host.ping(5, TimeUnit.SECONDS);
        Stream after = host.open(request("third"));
        assertThat(((Message.Data) after.take()).bytes()).asString().isEqualTo("third");
    }

    /** A request of a type the agent does not know (a newer host) is answered at once, not left to time out. */
    @Test
    @Timeout(30)
    void aRequestOfAnUnknownTypeIsAnsweredUnsupported() throws Exception {
        var toHost = Pipe.open();
        var toAgent = Pipe.open();
        var rawHost = new FrameIO(Channels.newInputStream(toHost.source()), Channels.newOutputStream(toAgent.sink()));
        var a = Connection.server(new FrameIO(Channels.newInputStream(toAgent.source()), Channels.newOutputStream(toHost.sink())),
                "test-agent", (stream, opening) -> { });
        try {
            rawHost.write(Codec.encode(0, new Message.Hello(Codec.PROTOCOL_VERSION, "host")));
            rawHost.write(new Frame(0x7e, 7, new byte[] {1, 2, 3}));
            Message answer = null;
            int stream = -1;
            while (!(answer instanceof Message.Error)) {
                Frame f = rawHost.read();
                stream = f.stream();
                answer = Codec.decode(f).orElseThrow();
            }
            assertThat(stream).isEqualTo(7);
            assertThat(((Message.Error) answer).code()).isEqualTo("unsupported");
            assertThat(((Message.Error) answer).message()).contains("0x7e").contains("test-agent");
        } finally {
            a.close();
        }
    }

    /** A message too large for one frame is refused on the sender's side, and the connection stays up. */
    @Test
    void aMessageTooLargeForAFrameIsRefusedBeforeItIsSent() throws Exception {
        connect((s, r) -> s.send(new Message.Exit(0, false)));
        var argv = new java.util.ArrayList<String>();
        for (int i = 0; i < 20; i++) argv.add("x".repeat(60_000));
        assertThatThrownBy(() -> host.open(new Message.ExecRequest(argv, Map.of(), "", "", 0, false)))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("too large");
        assertThat(host.isOpen()).isTrue();
        assertThat(host.open(request("small")).take()).isEqualTo(new Message.Exit(0, false));
    }
}
