package dev.bhatti.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Volumes on real VMs: a SQLite database written in one sandbox is read in the next after the first is
 * destroyed; read-only attachments are shared, a read-write one is exclusive; a named snapshot carries the
 * volume as it was and its clone gets a volume of its own; volumes live through stop/start and a daemon
 * restart; bad input is refused with nothing left behind. Timings are printed, never asserted.
 */
@ExtendWith(DaemonLogOnFailure.class)
class VolumesIT {

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-volumes-");

    /** The host's sqlite3 and the libraries the minimal tier lacks (both are Debian 12). */
    private static final List<Path> SQLITE = List.of(Path.of("/usr/bin/sqlite3"), Path.of("/lib/x86_64-linux-gnu/libsqlite3.so.0"),
            Path.of("/lib/x86_64-linux-gnu/libreadline.so.8"));

    @BeforeAll
    static void noVolumesYet() throws Exception {
        assertThat(ok("volume", "list").stdout()).contains("no volumes");
    }

    static BhattiProcess.Result ok(String... args) throws Exception { return bhatti.ok(args); }

    static BhattiProcess.Result refused(String... args) throws Exception { return bhatti.refused(args); }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    static String exec(String sandbox, String... cmd) throws Exception { return bhatti.exec(sandbox, cmd); }

    static String sql(String sandbox, String db, String statement) throws Exception {
        return exec(sandbox, "env", "LD_LIBRARY_PATH=/workspace/.sqlite", "/workspace/.sqlite/sqlite3", db, statement);
    }

    static void shipSqlite(String sandbox) throws Exception {
        for (Path f : SQLITE) {
            var r = BhattiProcess.cliWithInput(bhatti.daemon().env, f, "file", "write", sandbox, "/workspace/.sqlite/" + f.getFileName(), "--mode", "0755");
            assertThat(r.exit()).as(r.toString()).isZero();
        }
    }

    static long millis(long since) { return (System.nanoTime() - since) / 1_000_000; }

    @Test
    void aDatabaseOnAVolumeOutlivesItsSandboxAndReadOnlyCopiesAreShared() throws Exception {
        long t0 = System.nanoTime();
        JsonNode v = json(ok("volume", "create", "--name", "data", "--size", "512M", "--json").stdout());
        System.out.println("[volumes] volume create 512M: " + millis(t0) + " ms");
        assertThat(v.path("size_mb").asInt()).isEqualTo(512);
        assertThat(v.path("used_bytes").asLong()).as("sparse: nearly nothing written").isLessThan(64L << 20);

        t0 = System.nanoTime();
        ok("create", "--name", "db1", "--volume", "data:/var/lib/db");
        System.out.println("[volumes] create with one volume attached, to first exec: " + millis(t0) + " ms");
        assertThat(exec("db1", "sh", "-c", "stat -c '%u %a' /var/lib/db; grep ' /var/lib/db ' /proc/mounts | cut -d' ' -f3,4"))
                .as("owned by the guest's user, ext4, read-write, no device nodes").startsWith("1000 ").contains("ext4 rw,nodev");
        shipSqlite("db1");
        sql("db1", "/var/lib/db/app.db", "create table notes(id integer primary key, body text); "
                + "insert into notes(body) values ('first'), ('second'), ('third');");
        assertThat(ok("volume", "list").stdout()).containsPattern("data\\s+512M\\s+\\S+\\s+db1:/var/lib/db");
        assertThat(json(ok("inspect", "db1", "--json").stdout()).path("volumes").toString()).contains("\"mount\":\"/var/lib/db\"");

        // in use: neither deleted nor attached read-write (or read-only) to a second sandbox
        assertThat(refused("volume", "delete", "data", "-y").stderr()).contains("attached to sandbox db1");
        assertThat(refused("create", "--name", "db-two", "--volume", "data:/data").stderr()).contains("db1");
        assertThat(refused("create", "--name", "db-ro", "--volume", "data:/data:ro").stderr()).contains("read-write");
        assertThat(ok("list").stdout()).doesNotContain("db-two").doesNotContain("db-ro");

        // through a cold stop and start
        ok("stop", "db1");
        ok("start", "db1");
        assertThat(sql("db1", "/var/lib/db/app.db", "select count(*) from notes;")).isEqualTo("3\n");

        // guest throughput on the volume against the root disk, same sandbox, same run
        String dd = "dd if=/dev/zero of=%s bs=1M count=64 oflag=direct 2>&1 | tail -1; dd if=%s of=/dev/null bs=1M iflag=direct 2>&1 | tail -1; rm %s";
        System.out.println("[volumes] root disk write/read:\n" + exec("db1", "sh", "-c", dd.formatted("/workspace/dd", "/workspace/dd", "/workspace/dd")));
        System.out.println("[volumes] volume write/read:\n" + exec("db1", "sh", "-c", dd.formatted("/var/lib/db/dd", "/var/lib/db/dd", "/var/lib/db/dd")));

        ok("destroy", "db1", "-y");
        assertThat(ok("volume", "list").stdout()).containsPattern("data\\s+512M\\s+\\S+\\s+-\\s");

        ok("create", "--name", "db2", "--volume", "data:/srv/db");
        shipSqlite("db2");
        assertThat(sql("db2", "/srv/db/app.db", "select body from notes order by id;")).isEqualTo("first\nsecond\nthird\n");
        ok("destroy", "db2", "-y");

        // read-only: shared by two sandboxes, writable by none
        ok("create", "--name", "ro1", "--volume", "data:/data:ro");
        ok("create", "--name", "ro2", "--volume", "data:/data:ro");
        assertThat(exec("ro2", "sh", "-c", "ls /data; touch /data/x 2>&1 || true")).contains("app.db").contains("Read-only file system");
        assertThat(refused("create", "--name", "rw3", "--volume", "data:/data").stderr()).contains("read-only");
        assertThat(ok("volume", "inspect", "data").stdout()).contains("ro1:/data:ro").contains("ro2:/data:ro");
        ok("destroy", "ro1", "-y");
        ok("destroy", "ro2", "-y");
        ok("volume", "delete", "data", "-y");
        assertThat(ok("volume", "list").stdout()).doesNotContainPattern("(?m)^data\\s");
    }

    @Test
    void aSnapshotCarriesTheVolumeAsItWasAndVolumesLiveThroughARestart() throws Exception {
        ok("volume", "create", "--name", "state", "--size", "64M");
        ok("create", "--name", "snapsrc", "--volume", "state:/data");
        // synced: the clone's cold boot below reads the disk, where a write still in the page cache would not be
        exec("snapsrc", "sh", "-c", "echo before > /data/f && sync");
        ok("snapshot", "create", "snapsrc", "--name", "with-volume");
        exec("snapsrc", "sh", "-c", "echo after > /data/f");

        ok("snapshot", "resume", "with-volume", "--name", "snapclone");
        assertThat(exec("snapclone", "cat", "/data/f")).as("the clone sees the files its memory remembers").isEqualTo("before\n");
        assertThat(exec("snapsrc", "cat", "/data/f")).as("the original volume is untouched").isEqualTo("after\n");
        var volumes = json(ok("volume", "list", "--json").stdout());
        assertThat(volumes.toString()).contains("\"name\":\"state-snapclone\"").contains("\"sandbox\":\"snapclone\"");

        // a daemon restart adopts both VMs with their volumes; a cold boot mounts them again
        bhatti.daemon().stop(); // SIGTERM: the VMs run on
        bhatti.daemon().start();
        assertThat(exec("snapsrc", "cat", "/data/f")).isEqualTo("after\n");
        ok("stop", "snapclone");
        ok("start", "snapclone", "--force");
        assertThat(exec("snapclone", "sh", "-c", "cat /data/f; grep -c ' /data ' /proc/mounts")).isEqualTo("before\n1\n");

        ok("destroy", "snapclone", "-y");
        ok("destroy", "snapsrc", "-y");
        ok("snapshot", "delete", "with-volume", "-y");
        ok("volume", "delete", "state-snapclone", "-y");
        ok("volume", "delete", "state", "-y");
    }

    @Test
    void clonesAndResizesKeepTheData() throws Exception {
        ok("volume", "create", "--name", "grow", "--size", "64M");
        ok("create", "--name", "writer", "--volume", "grow:/data");
        exec("writer", "sh", "-c", "cd /data && head -c 3000000 /dev/urandom > blob && sha256sum blob > blob.sum");
        long t0 = System.nanoTime();
        ok("volume", "clone", "grow", "--name", "grow-copy");
        System.out.println("[volumes] clone of an attached 64M volume: " + millis(t0) + " ms");
        assertThat(refused("volume", "resize", "grow", "--size", "128M").stderr()).contains("attached to sandbox writer");
        ok("destroy", "writer", "-y");

        assertThat(refused("volume", "resize", "grow", "--size", "32M").stderr()).contains("64 MB");
        ok("volume", "resize", "grow", "--size", "256M");
        ok("create", "--name", "reader", "--volume", "grow:/a", "--volume", "grow-copy:/b:ro");
        assertThat(exec("reader", "sh", "-c", "cd /a && sha256sum -c blob.sum && cd /b && sha256sum -c blob.sum"))
                .isEqualTo("blob: OK\nblob: OK\n");
        int sizeMb = Integer.parseInt(exec("reader", "sh", "-c", "df -m /a | awk 'NR == 2 { print $2 }'").strip());
        assertThat(sizeMb).as("the file system grew with the volume").isGreaterThan(200);
        ok("destroy", "reader", "-y");
        ok("volume", "delete", "grow", "-y");
        ok("volume", "delete", "grow-copy", "-y");
    }

    @Test
    void badInputIsRefusedAndLeavesNothing() throws Exception {
        assertThat(status("POST", "/volumes", "{\"name\":\"z\",\"size_mb\":0}")).isEqualTo(400);
        assertThat(status("POST", "/volumes", "{\"name\":\"z\",\"size_mb\":-5}")).isEqualTo(400);
        assertThat(status("POST", "/volumes", "{\"name\":\"z\",\"size_mb\":\"ten\"}")).isEqualTo(400);
        assertThat(status("POST", "/volumes", "{\"name\":\"z\",\"size_mb\":100000000}")).isEqualTo(400);
        assertThat(status("POST", "/volumes", "{\"name\":\"../z\",\"size_mb\":64}")).isEqualTo(400);
        assertThat(refused("volume", "create", "--name", "z", "--size", "lots").stderr()).contains("--size must be a size");
        ok("volume", "create", "--name", "z", "--size", "16M");
        assertThat(status("POST", "/volumes", "{\"name\":\"z\",\"size_mb\":16}")).isEqualTo(409);
        for (String mount : List.of("data", "/", "/proc", "/sys/x", "/dev", "/etc", "/a/../b", "/a b")) {
            assertThat(status("POST", "/sandboxes", "{\"name\":\"bad\",\"volumes\":[{\"name\":\"z\",\"mount\":\"" + mount + "\"}]}"))
                    .as(mount).isEqualTo(400);
        }
        assertThat(status("POST", "/sandboxes", "{\"name\":\"bad\",\"volumes\":[{\"name\":\"nosuch\",\"mount\":\"/data\"}]}")).isEqualTo(404);
        assertThat(status("POST", "/sandboxes", "{\"name\":\"bad\",\"volumes\":[{\"name\":\"z\",\"mount\":\"/a\"},{\"name\":\"z\",\"mount\":\"/b\"}]}"))
                .isEqualTo(400);
        assertThat(refused("create", "--name", "bad", "--volume", "z").stderr()).contains("NAME:PATH");
        assertThat(ok("list").stdout()).doesNotContain("bad");
        assertThat(json(ok("volume", "inspect", "z", "--json").stdout()).path("attached_to")).isEmpty();
        assertThat(status("GET", "/volumes/nosuch", null)).isEqualTo(404);
        assertThat(status("DELETE", "/volumes/nosuch", null)).isEqualTo(404);
        ok("volume", "delete", "z", "-y");
    }

    static int status(String method, String path, String body) throws Exception {
        var r = bhatti.call(method, path, body);
        if (r.statusCode() >= 400) assertThat(json(r.body()).path("error").asString()).as(r.body()).isNotEmpty();
        return r.statusCode();
    }
}
