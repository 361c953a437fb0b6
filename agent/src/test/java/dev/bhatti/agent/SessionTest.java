package dev.bhatti.agent;

import dev.bhatti.protocol.Connection;
import dev.bhatti.protocol.FrameIO;
import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Terminal and piped sessions on real processes and a real pseudo-terminal of the host. */
class SessionTest {

    @TempDir Path dir;
    AgentMain agent;
    Connection host;

    @BeforeEach
    void start() throws Exception {
        Path passwd = Files.writeString(dir.resolve("passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        agent = new AgentMain(new AgentConfig(passwd, Files.createDirectory(dir.resolve("ws")), "setsid", "setpriv", false));
        host = connect();
    }

    Connection connect() throws Exception {
        var toAgent = Pipe.open();
        var toHost = Pipe.open();
        agent.serve(new FrameIO(Channels.newInputStream(toAgent.source()), Channels.newOutputStream(toHost.sink())));
        var c = Connection.client(new FrameIO(Channels.newInputStream(toHost.source()), Channels.newOutputStream(toAgent.sink())), "t");
        c.awaitHello(5, TimeUnit.SECONDS);
        return c;
    }

    @AfterEach
    void stop() { host.close(); }

    /** Reads output until it contains {@code expected}; returns everything read. */
    static String until(Stream s, String expected) throws Exception {
        var out = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!out.toString().contains(expected)) {
            Message m = s.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (m == null) throw new AssertionError("never saw '" + expected + "' in: " + out);
            if (m instanceof Message.Data d) out.append(new String(d.bytes()));
            if (m instanceof Message.Exit x) out.append("[exit ").append(x.exitCode()).append("]");
        }
        return out.toString();
    }

    static void type(Stream s, String keys) throws Exception {
        s.send(new Message.Data(Message.Channel.STDIN, keys.getBytes()));
    }

    Message.SessionInfo session(String id) throws Exception {
        Stream l = host.open(new Message.SessionListRequest());
        var list = (Message.SessionList) l.poll(5, TimeUnit.SECONDS);
        return list.sessions().stream().filter(s -> s.id().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void aTerminalSessionHasAControllingTtyAndResizes() throws Exception {
        Stream s = host.open(new Message.SessionStart("", List.of("sh"), Map.of(), "", "root", true, 30, 100, 0));
        var info = (Message.SessionInfo) s.poll(5, TimeUnit.SECONDS);
        assertThat(info.tty()).isTrue();
        assertThat(info.running()).isTrue();
        type(s, "tty; stty size; echo sum-$((40+2))\n");
        String out = until(s, "sum-42");
        assertThat(out).contains("/dev/pts/").contains("30 100");
        s.send(new Message.Resize(40, 132));
        type(s, "stty size\n");
        until(s, "40 132");
        type(s, "exit 3\n");
        assertThat(until(s, "[exit")).contains("[exit 3]");
    }

    @Test
    void detachingKeepsTheShellAndReattachReplaysTheScrollback() throws Exception {
        Stream s = host.open(new Message.SessionStart("", List.of("sh"), Map.of(), "", "root", true, 24, 80, 0));
        String id = ((Message.SessionInfo) s.poll(5, TimeUnit.SECONDS)).id();
        type(s, "echo before-$((6*7))\n");
        until(s, "before-42");
        host.close(); // the host connection drops: no hang-up for the shell
        host = connect();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !session(id).attached());
        assertThat(session(id).running()).isTrue();

        Stream again = host.open(new Message.SessionAttach(id, true));
        assertThat(((Message.SessionInfo) again.poll(5, TimeUnit.SECONDS)).id()).isEqualTo(id);
        until(again, "before-42"); // scrollback
        Stream thief = host.open(new Message.SessionAttach(id, true));
        assertThat(((Message.Error) thief.poll(5, TimeUnit.SECONDS)).code()).isEqualTo("attached");

        Stream kill = host.open(new Message.SessionKill(id, 9));
        assertThat(kill.poll(5, TimeUnit.SECONDS)).isEqualTo(new Message.Exit(0, false));
        assertThat(until(again, "[exit")).contains("[exit 137]");
        assertThat(session(id).running()).isFalse();
        assertThat(session(id).exitCode()).isEqualTo(137);
    }

    @Test
    void aPipedSessionMergesOutputAndTakesInput() throws Exception {
        Stream s = host.open(new Message.SessionStart("", List.of("sh", "-c", "echo out; echo err >&2; read x; echo got-$x"),
                Map.of(), "", "root", false, 0, 0, 0));
        assertThat(((Message.SessionInfo) s.poll(5, TimeUnit.SECONDS)).tty()).isFalse();
        String first = until(s, "err");
        assertThat(first).contains("out");
        type(s, "value\n");
        assertThat(until(s, "[exit")).contains("got-value").contains("[exit 0]");
    }

    @Test
    void unknownSessionsAndCommandsAreErrors() throws Exception {
        Stream a = host.open(new Message.SessionAttach("s999", false));
        assertThat(((Message.Error) a.poll(5, TimeUnit.SECONDS)).code()).isEqualTo("not_found");
        Stream b = host.open(new Message.SessionStart("", List.of("no-such-shell"), Map.of(), "", "root", true, 24, 80, 0));
        assertThat(((Message.Error) b.poll(5, TimeUnit.SECONDS)).message()).contains("command not found");
        Stream k = host.open(new Message.SessionKill("s999", 9));
        assertThat(((Message.Error) k.poll(5, TimeUnit.SECONDS)).code()).isEqualTo("not_found");
    }

    /** Found by AgentFuzzTest: a piped session with such a variable failed as an "internal" error. */
    @Test
    void environmentNoProcessCanTakeIsABadRequest() throws Exception {
        for (boolean tty : new boolean[]{false, true}) {
            Stream s = host.open(new Message.SessionStart("", List.of("sh"), Map.of("A=B", "x"), "", "root", tty, 24, 80, 0));
            Message answer = s.poll(5, TimeUnit.SECONDS);
            assertThat(answer).isInstanceOf(Message.Error.class);
            assertThat(((Message.Error) answer).code()).isEqualTo("bad_request");
        }
    }
}
