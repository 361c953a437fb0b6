package dev.bhatti.agent;

import dev.bhatti.protocol.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class MountSessionTest {
    @TempDir Path dir;

    @Test
    void theDiskIsFoundByItsSerialAndAFailedMountSaysWhy() throws Exception {
        Path sys = Files.createDirectories(dir.resolve("sys/block"));
        Files.createDirectories(sys.resolve("vda"));
        Files.writeString(Files.createDirectories(sys.resolve("vdb")).resolve("serial"), "bhatti-root\n");
        Files.writeString(Files.createDirectories(sys.resolve("vdzz")).resolve("serial"), "bhatti-vol3\n");
        var session = new MountSession(null, sys);
        assertThat(session.deviceWithSerial("bhatti-vol3")).contains("vdzz");
        assertThat(session.deviceWithSerial("bhatti-vol4")).isEmpty();

        Path target = dir.resolve("mnt/data");
        assertThat(session.mount(new Message.Mount("bhatti-vol4", target.toString(), false))).contains("no disk with serial bhatti-vol4");
        // /dev/vdzz does not exist here: the mount call itself fails, and the reason is the system's
        String failed = session.mount(new Message.Mount("bhatti-vol3", target.toString(), true));
        assertThat(failed).startsWith("mounting vdzz at " + target + " failed: ").doesNotContain("errno -1");
        assertThat(target).as("the mount point is made").isDirectory();
        Files.writeString(dir.resolve("file"), "x");
        assertThat(session.mount(new Message.Mount("bhatti-vol3", dir.resolve("file").toString(), false))).contains("not a directory");
        assertThat(session.mount(new Message.Mount("bhatti-vol3", "relative", false))).contains("absolute");
    }
}
