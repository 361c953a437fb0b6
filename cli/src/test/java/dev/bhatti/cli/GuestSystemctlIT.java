package dev.bhatti.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Services in a real guest, seen by the default user (uid 1000) as on a Debian system: systemctl
 * status/is-active/show/list-units/cat and journalctl work without sudo, changes are refused with
 * systemd's "Access denied" (exit 4) and work with sudo or as root.
 */
@ExtendWith(DaemonLogOnFailure.class)
class GuestSystemctlIT {

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-systemctl-");

    static Path dataDir;
    static BhattiProcess.Daemon daemon;

    @BeforeAll
    static void setUp() {
        dataDir = bhatti.dataDir();
        daemon = bhatti.daemon();
    }

    static BhattiProcess.Result cli(String... args) throws Exception { return BhattiProcess.cli(daemon.env, args); }

    /** A command as the default user, no sudo. */
    static BhattiProcess.Result user(String... cmd) throws Exception {
        var args = new java.util.ArrayList<>(java.util.List.of("exec", "svc", "--"));
        args.addAll(java.util.List.of(cmd));
        return cli(args.toArray(String[]::new));
    }

    @Test
    void theDefaultUserLooksAtServicesAndOnlyRootChangesThem() throws Exception {
        var created = cli("create", "--name", "svc", "--cpus", "1", "--memory", "512");
        assertThat(created.exit()).as(created.toString()).isZero();
        Path unit = Files.writeString(dataDir.resolve("demo.service"), """
                [Unit]
                Description=Demo service
                [Service]
                ExecStart=/bin/sh -c 'echo demo-up; exec sleep 600'
                [Install]
                WantedBy=multi-user.target
                """);
        var wrote = BhattiProcess.cliWithInput(daemon.env, unit, "file", "write", "--user", "root", "svc", "/etc/systemd/system/demo.service");
        assertThat(wrote.exit()).as(wrote.toString()).isZero();
        var enable = user("sudo", "systemctl", "enable", "--now", "demo");
        assertThat(enable.exit()).as(enable.toString()).isZero();

        assertThat(user("id", "-u").stdout()).isEqualTo("1000\n");
        var status = user("systemctl", "status", "demo");
        assertThat(status.exit()).as(status.toString()).isZero();
        assertThat(status.stdout()).contains("demo.service - Demo service").contains("enabled").contains("active (running)");
        var active = user("systemctl", "is-active", "demo");
        assertThat(active.exit()).as(active.toString()).isZero();
        assertThat(active.stdout()).isEqualTo("active\n");
        assertThat(user("systemctl", "is-enabled", "demo").stdout()).isEqualTo("enabled\n");
        assertThat(user("systemctl", "is-failed", "demo").exit()).isEqualTo(1);
        assertThat(user("systemctl", "show", "-p", "MainPID", "--value", "demo").stdout()).matches("[1-9][0-9]*\n");
        assertThat(user("systemctl", "list-units").stdout()).containsPattern("demo\\.service +loaded +active +running +Demo service");
        assertThat(user("systemctl", "list-unit-files", "--no-legend").stdout()).containsPattern("demo\\.service +enabled");
        assertThat(user("systemctl", "cat", "demo").stdout()).contains("# /etc/systemd/system/demo.service").contains("ExecStart=");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            var journal = user("journalctl", "-u", "demo", "-n", "5");
            assertThat(journal.exit()).as(journal.toString()).isZero();
            assertThat(journal.stdout()).contains("demo-up");
        });
        assertThat(user("journalctl").stdout()).contains("demo.service");
        // open to everyone, but nothing there that uid 1000 may write
        assertThat(user("stat", "-c", "%a %U", "/run/bhatti/systemctl.sock", "/var/log/bhatti", "/var/log/bhatti/demo.service.log").stdout())
                .isEqualTo("666 root\n755 root\n644 root\n");

        var stop = user("systemctl", "stop", "demo");
        assertThat(stop.exit()).as(stop.toString()).isEqualTo(4);
        assertThat(stop.stderr()).contains("Failed to stop demo: Access denied").contains("sudo systemctl stop demo");
        assertThat(user("systemctl", "disable", "demo").exit()).isEqualTo(4);
        assertThat(user("systemctl", "daemon-reload").exit()).isEqualTo(4);
        assertThat(user("systemctl", "is-active", "demo").stdout()).isEqualTo("active\n");
        assertThat(user("systemctl", "is-enabled", "demo").stdout()).isEqualTo("enabled\n");
        var traversal = user("systemctl", "status", "../../../etc/shadow");
        assertThat(traversal.exit()).isEqualTo(1);
        assertThat(traversal.stderr()).contains("is not valid");

        assertThat(user("sudo", "systemctl", "stop", "demo").exit()).isZero();
        var inactive = user("systemctl", "is-active", "demo");
        assertThat(inactive.exit()).isEqualTo(3);
        assertThat(inactive.stdout()).isEqualTo("inactive\n");
        assertThat(cli("exec", "--user", "root", "svc", "--", "systemctl", "start", "demo").exit()).isZero();
        assertThat(user("systemctl", "is-active", "demo").stdout()).isEqualTo("active\n");
    }
}
