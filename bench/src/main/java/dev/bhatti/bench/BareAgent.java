package dev.bhatti.bench;

import dev.bhatti.engine.ExecCommand;
import dev.bhatti.engine.ExecListener;
import dev.bhatti.engine.FileSink;
import dev.bhatti.engine.GuestFile;
import dev.bhatti.engine.ReadRange;
import dev.bhatti.engine.qemu.BareVm;

import java.io.ByteArrayInputStream;
import java.util.List;

/** The floor operations on the bare VM's agent channel, each insisting that it worked. */
final class BareAgent {
    private BareAgent() {}

    static void exec(BareVm vm, List<String> argv) throws Exception {
        var result = vm.agent().exec(ExecCommand.of(argv.toArray(String[]::new)), ExecListener.NONE);
        if (result.exitCode() != 0) throw new BenchFailure("agent exec " + argv + " exited " + result.exitCode());
    }

    static void write(BareVm vm, String path, byte[] content) throws Exception {
        vm.agent().writeFile(path, 0644, "", new ByteArrayInputStream(content));
    }

    static void read(BareVm vm, String path, int expectedBytes) throws Exception {
        long[] n = {0};
        vm.agent().readFile(path, ReadRange.ALL, new FileSink() {
            @Override public void begin(GuestFile file) { }
            @Override public void data(byte[] bytes) { n[0] += bytes.length; }
        });
        if (n[0] != expectedBytes) throw new BenchFailure("agent read " + n[0] + " bytes of " + path + ", wrote " + expectedBytes);
    }

    static void list(BareVm vm, String path) throws Exception {
        if (vm.agent().listFiles(path).entries().isEmpty()) throw new BenchFailure("agent ls " + path + " listed nothing");
    }
}
