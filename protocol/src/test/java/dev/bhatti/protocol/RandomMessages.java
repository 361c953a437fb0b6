package dev.bhatti.protocol;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.bhatti.protocol.Fuzz.aLong;
import static dev.bhatti.protocol.Fuzz.anInt;
import static dev.bhatti.protocol.Fuzz.string;

/** Valid messages of every type with random (often edge-case) fields: the seeds that get mutated. */
public final class RandomMessages {

    /** One of each type the protocol knows, in {@link #any}'s order. */
    public static final int TYPES = 32;

    private RandomMessages() {}

    public static Message any(Random r) {
        return of(r.nextInt(TYPES), r);
    }

    public static Message of(int kind, Random r) {
        return switch (kind) {
            case 0 -> new Message.Hello(r.nextInt(0x10000), string(r));
            case 1 -> new Message.Ping(aLong(r));
            case 2 -> new Message.Pong(aLong(r));
            case 3 -> new Message.ExecRequest(argv(r), env(r), string(r), string(r), Math.abs(aLong(r) % 1_000_000), r.nextBoolean());
            case 4 -> new Message.DetachRequest(argv(r), env(r), string(r), string(r), string(r));
            case 5 -> new Message.Detached(aLong(r), string(r));
            case 6 -> new Message.FileRead(string(r), aLong(r), aLong(r), aLong(r));
            case 7 -> new Message.FileWrite(string(r), anInt(r), string(r));
            case 8 -> new Message.FileStat(string(r));
            case 9 -> new Message.FileListRequest(string(r));
            case 10 -> fileInfo(r);
            case 11 -> {
                var entries = new ArrayList<Message.FileInfo>();
                for (int i = r.nextInt(4); i > 0; i--) entries.add(fileInfo(r));
                yield new Message.FileList(entries, aLong(r));
            }
            case 12 -> new Message.SessionStart(string(r), argv(r), env(r), string(r), string(r), r.nextBoolean(), anInt(r), anInt(r), aLong(r));
            case 13 -> new Message.SessionAttach(string(r), r.nextBoolean());
            case 14 -> sessionInfo(r);
            case 15 -> new Message.Resize(anInt(r), anInt(r));
            case 16 -> new Message.Detach();
            case 17 -> new Message.SessionListRequest();
            case 18 -> {
                var list = new ArrayList<Message.SessionInfo>();
                for (int i = r.nextInt(3); i > 0; i--) list.add(sessionInfo(r));
                yield new Message.SessionList(list);
            }
            case 19 -> new Message.SessionKill(string(r), anInt(r));
            case 20 -> new Message.ForwardOpen(anInt(r));
            case 21 -> new Message.Forwarded();
            case 22 -> new Message.Resumed(aLong(r), string(r), Fuzz.bytes(r, r.nextInt(64)), r.nextBoolean() ? "" : string(r));
            case 23, 24 -> new Message.Data(channel(r), Fuzz.bytes(r, r.nextInt(4) == 0 ? r.nextInt(40_000) : r.nextInt(64)));
            case 25 -> new Message.Eof(channel(r));
            case 26 -> new Message.Window(1 + r.nextInt(Integer.MAX_VALUE));
            case 27 -> new Message.Kill(anInt(r));
            case 28 -> new Message.Exit(anInt(r), r.nextBoolean());
            case 29 -> new Message.Error(string(r), string(r));
            case 30 -> new Message.Mount(string(r), string(r), r.nextBoolean());
            case 31 -> new Message.FileWatch(string(r));
            default -> new Message.Pong(r.nextLong());
        };
    }

    public static Message.Channel channel(Random r) {
        return Message.Channel.values()[r.nextInt(Message.Channel.values().length)];
    }

    public static List<String> argv(Random r) {
        var argv = new ArrayList<String>();
        for (int i = 1 + r.nextInt(5); i > 0; i--) argv.add(string(r));
        return argv;
    }

    public static Map<String, String> env(Random r) {
        var env = new LinkedHashMap<String, String>();
        for (int i = r.nextInt(4); i > 0; i--) env.put(string(r), string(r));
        return env;
    }

    private static Message.FileInfo fileInfo(Random r) {
        return new Message.FileInfo(string(r), aLong(r), anInt(r), string(r), aLong(r));
    }

    private static Message.SessionInfo sessionInfo(Random r) {
        return new Message.SessionInfo(string(r), argv(r), r.nextBoolean(), r.nextBoolean(), anInt(r), r.nextBoolean(), aLong(r));
    }
}
