package dev.bhatti.server.volume;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.sandbox.SandboxService;
import dev.bhatti.server.store.UserRecord;
import dev.bhatti.server.store.VolumeRecord;
import dev.bhatti.server.testing.Services;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Volumes' rules above the engine, with real ext4 files (mkfs.ext4, e2fsck, resize2fs): who may attach
 * what, the storage limit, what a refused create leaves (nothing), snapshot resumes, start-up reconciling.
 */
class VolumeServiceTest {
    @TempDir Path dir;
    Services services;
    UserRecord alice;

    @BeforeEach
    void setUp() {
        services = new Services(dir);
        alice = services.user("alice", 5);
    }

    @AfterEach
    void tearDown() { services.close(); }

    static SandboxService.CreateRequest withVolumes(String name, VolumeAttachments.Requested... volumes) {
        return new SandboxService.CreateRequest(name, null, null, null, null, null, null, null, null, null, null, null, null, List.of(volumes));
    }

    static VolumeAttachments.Requested rw(String name, String mount) { return new VolumeAttachments.Requested(name, mount, false); }

    static VolumeAttachments.Requested ro(String name, String mount) { return new VolumeAttachments.Requested(name, mount, true); }

    @Test
    void aReadWriteVolumeHasOneSandboxAndReadOnlyOnesAreShared() {
        services.volumes.create(alice, "data", 16);
        var first = services.sandboxes.create(alice, withVolumes("one", rw("data", "/data"))).sandbox();
        assertThat(services.engine.spec(first.id()).volumes()).singleElement()
                .satisfies(v -> assertThat(v.mount()).isEqualTo("/data"));
        assertThatThrownBy(() -> services.sandboxes.create(alice, withVolumes("two", rw("data", "/data"))))
                .isInstanceOf(DomainException.Conflict.class).hasMessageContaining("sandbox one");
        assertThatThrownBy(() -> services.sandboxes.create(alice, withVolumes("three", ro("data", "/data"))))
                .isInstanceOf(DomainException.Conflict.class);
        assertThat(services.store.sandboxes(alice.id())).hasSize(1);
        assertThatThrownBy(() -> services.volumes.delete(alice, "data")).isInstanceOf(DomainException.Conflict.class)
                .hasMessageContaining("sandbox one");

        services.sandboxes.destroy(alice, "one");
        services.sandboxes.create(alice, withVolumes("r1", ro("data", "/data")));
        services.sandboxes.create(alice, withVolumes("r2", ro("data", "/srv")));
        assertThat(services.volumes.attachments(services.volumes.get(alice, "data"))).hasSize(2);
        assertThatThrownBy(() -> services.sandboxes.create(alice, withVolumes("w", rw("data", "/data"))))
                .isInstanceOf(DomainException.Conflict.class).hasMessageContaining("read-only");
    }

    @Test
    void mountPathsMustBeAbsolutePlainAndNotTheSystems() {
        assertThat(MountPaths.check("/var/lib/postgresql")).isEqualTo("/var/lib/postgresql");
        assertThat(MountPaths.check("//data//x/")).isEqualTo("/data/x");
        for (String bad : List.of("data", "", "/", "/proc", "/proc/1", "/sys", "/dev", "/dev/shm", "/etc", "/usr", "/a/../etc", "/a/./b",
                "/a b", "/a\nb", "/opt/bhatti")) {
            assertThatThrownBy(() -> MountPaths.check(bad)).as(bad).isInstanceOf(DomainException.Invalid.class);
        }
    }

    @Test
    void anUnknownVolumeOrOverlappingMountsMakeNoSandbox() {
        services.volumes.create(alice, "a", 16);
        services.volumes.create(alice, "b", 16);
        assertThatThrownBy(() -> services.sandboxes.create(alice, withVolumes("x", rw("nosuch", "/data"))))
                .isInstanceOf(DomainException.NotFound.class);
        assertThatThrownBy(() -> services.sandboxes.create(alice, withVolumes("x", rw("a", "/data"), rw("b", "/data/sub"))))
                .isInstanceOf(DomainException.Invalid.class).hasMessageContaining("overlap");
        assertThat(services.store.sandboxes(alice.id())).isEmpty();
        assertThat(services.volumes.attachments(services.volumes.get(alice, "a"))).isEmpty();
    }

    @Test
    void sizesAreCheckedAndVolumesCountAgainstStorage() {
        assertThatThrownBy(() -> services.volumes.create(alice, "z", 0)).isInstanceOf(DomainException.Invalid.class);
        assertThatThrownBy(() -> services.volumes.create(alice, "z", -1)).isInstanceOf(DomainException.Invalid.class);
        assertThatThrownBy(() -> services.volumes.create(alice, "z", null)).isInstanceOf(DomainException.Invalid.class);
        assertThatThrownBy(() -> services.volumes.create(alice, "z", alice.maxStorageMb() + 1)).isInstanceOf(DomainException.Invalid.class)
                .hasMessageContaining("storage limit");
        services.volumes.create(alice, "big", alice.maxStorageMb() - 100);
        assertThatThrownBy(() -> services.volumes.create(alice, "more", 200)).isInstanceOf(DomainException.LimitReached.class)
                .hasMessageContaining("storage limit reached");
        assertThat(services.store.volume(alice.id(), "more")).isEmpty();
        services.volumes.create(alice, "small", 50);
        assertThatThrownBy(() -> services.volumes.resize(alice, "big", alice.maxStorageMb() - 40)).isInstanceOf(DomainException.LimitReached.class);
        assertThat(services.volumes.get(alice, "big").sizeMb()).isEqualTo(alice.maxStorageMb() - 100);
        assertThatThrownBy(() -> services.volumes.resize(alice, "big", 10)).isInstanceOf(DomainException.Invalid.class)
                .hasMessageContaining((alice.maxStorageMb() - 100) + " MB");
    }

    @Test
    void resizeGrowsTheFileSystemAndCloneCopiesIt() throws Exception {
        services.volumes.create(alice, "v", 16);
        var grown = services.volumes.resize(alice, "v", 48);
        assertThat(grown.sizeMb()).isEqualTo(48);
        assertThat(grown.generation()).as("a resize is a change a snapshot did not see").isEqualTo(1);
        Path file = services.volumes.file(grown);
        assertThat(Files.size(file)).isEqualTo(48L << 20);
        var dumpe2fs = new ProcessBuilder("dumpe2fs", "-h", file.toString()).redirectErrorStream(true).start();
        String out = new String(dumpe2fs.getInputStream().readAllBytes());
        assertThat(dumpe2fs.waitFor()).isZero();
        long blocks = Long.parseLong(out.lines().filter(l -> l.startsWith("Block count:")).findFirst().orElseThrow().replaceAll("\\D", ""));
        long blockSize = Long.parseLong(out.lines().filter(l -> l.startsWith("Block size:")).findFirst().orElseThrow().replaceAll("\\D", ""));
        assertThat(blocks * blockSize).isEqualTo(48L << 20);

        var copy = services.volumes.cloneVolume(alice, "v", "v2");
        assertThat(copy.status()).isEqualTo(VolumeRecord.READY);
        assertThat(Files.mismatch(file, services.volumes.file(copy))).isEqualTo(-1);
        assertThat(Files.getPosixFilePermissions(services.volumes.file(copy)).toString()).isEqualTo("[OWNER_READ, OWNER_WRITE]");
    }

    @Test
    void aResumedSnapshotGetsItsOwnCopyOfAWrittenVolumeAndTheSameReadOnlyOne() {
        services.volumes.create(alice, "rwvol", 16);
        services.volumes.create(alice, "rovol", 16);
        services.sandboxes.create(alice, withVolumes("src", rw("rwvol", "/data"), ro("rovol", "/models")));
        services.snapshots.create(alice, "src", "snap");
        var clone = services.snapshots.resume(alice, "snap", "clone").sandbox();
        var volumes = services.sandboxes.volumes(clone);
        assertThat(volumes).extracting(v -> v.name() + ":" + v.mount() + ":" + v.readOnly())
                .containsExactly("rwvol-clone:/data:false", "rovol:/models:true");
        assertThat(services.store.volume(alice.id(), "rwvol-clone").orElseThrow().source()).contains("snapshot");
    }

    @Test
    void atStartUnfinishedVolumesAndStrayFilesGo() throws Exception {
        var kept = services.volumes.create(alice, "kept", 16);
        var stray = services.volumes.file(kept).resolveSibling("0123456789abcdef.ext4");
        Files.writeString(stray, "no row names me");
        var partial = services.volumes.file(kept).resolveSibling("fedcba9876543210.ext4.partial");
        Files.writeString(partial, "half made");
        var staging = services.volumes.file(kept).resolveSibling(kept.id() + ".snapshot");
        Files.writeString(staging, "a backup's copy");
        services.volumes.reconcile();
        assertThat(stray).doesNotExist();
        assertThat(partial).doesNotExist();
        assertThat(staging).doesNotExist();
        assertThat(services.volumes.file(kept)).exists();
    }
}
