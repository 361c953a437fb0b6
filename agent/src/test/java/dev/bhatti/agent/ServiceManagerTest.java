package dev.bhatti.agent;

import dev.bhatti.agent.services.UnitFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The service manager on real processes of the host, with unit files in a temporary directory. */
class ServiceManagerTest {

    @TempDir Path dir;
    Path units;
    ServiceManager manager;
    final List<String> started = new java.util.ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        units = Files.createDirectory(dir.resolve("units"));
        Path passwd = Files.writeString(dir.resolve("passwd"), "root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000::" + dir + ":/bin/sh\n");
        var config = new AgentConfig(passwd, Files.createDirectory(dir.resolve("ws")), "setsid", "setpriv", Libc.geteuid() == 0);
        manager = new ServiceManager(config, List.of(units), dir.resolve("log"), dir.resolve("notify"));
    }

    @AfterEach
    void stopAll() {
        for (String u : started) {
            try {
                manager.stop(u);
            } catch (ServiceManager.ServiceException ignored) {
                // already gone
            }
        }
    }

    void unit(String name, String text) throws Exception {
        Files.writeString(units.resolve(name), text);
        started.add(name);
    }

    @Test
    void parsesWhatSandboxesNeed() {
        var u = UnitFile.parse("web.service", """
                [Unit]
                Description=Web server
                After=network.target db.service
                Requires=db.service
                [Service]
                Type=forking
                Environment="GREETING=hello world" MODE=prod
                EnvironmentFile=-/etc/default/web
                ExecStartPre=-/bin/mkdir -p /run/web
                ExecStart=/usr/bin/web --name "%n" \\
                    --verbose
                Restart=on-failure
                RestartSec=2s
                User=www
                [Install]
                WantedBy=multi-user.target
                """);
        assertThat(u.type()).isEqualTo(dev.bhatti.agent.services.UnitFile.Type.FORKING);
        assertThat(u.environment()).containsEntry("GREETING", "hello world").containsEntry("MODE", "prod");
        assertThat(u.execStartPre().getFirst().ignoreFailure()).isTrue();
        assertThat(u.execStart().getFirst().argv()).containsExactly("/usr/bin/web", "--name", "web.service", "--verbose");
        assertThat(u.restartMillis()).isEqualTo(2000);
        assertThat(u.requires()).containsExactly("db.service");
        assertThat(u.after()).containsExactly("network.target", "db.service");
        assertThat(u.wantedBy()).containsExactly("multi-user.target");
    }

    @Test
    void aSimpleServiceRunsLogsAndStops() throws Exception {
        unit("echo.service", "[Service]\nEnvironment=WORD=hi\nExecStart=/bin/sh -c 'echo started-$WORD; exec sleep 60'\n");
        manager.start("echo");
        var status = manager.status("echo");
        assertThat(status.state()).isEqualTo(ServiceManager.State.ACTIVE);
        long pid = status.mainPid();
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(manager.log("echo")) && Files.readString(manager.log("echo")).contains("started-hi"));
        manager.stop("echo");
        assertThat(manager.status("echo").state()).isEqualTo(ServiceManager.State.INACTIVE);
        await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    }

    @Test
    void oneshotWithRemainAfterExitStaysActive() throws Exception {
        Path marker = dir.resolve("once");
        unit("setup.service", "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'echo done > " + marker + "'\n");
        manager.start("setup.service");
        assertThat(marker).hasContent("done");
        assertThat(manager.status("setup").state()).isEqualTo(ServiceManager.State.ACTIVE);
    }

    @Test
    void restartOnFailureBacksOffAndStopEndsIt() throws Exception {
        Path count = dir.resolve("count");
        unit("flaky.service", "[Service]\nRestart=on-failure\nRestartSec=100ms\nExecStart=/bin/sh -c 'echo run >> " + count + "; exit 3'\n");
        manager.start("flaky");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(count) && Files.readAllLines(count).size() >= 3);
        manager.stop("flaky");
        assertThat(manager.status("flaky").state()).isEqualTo(ServiceManager.State.INACTIVE);
        int runs = Files.readAllLines(count).size();
        // no restart after the stop, for many times the back-off (a negative: it must hold a while)
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> Files.readAllLines(count).size() == runs);
        assertThat(Files.readString(manager.log("flaky"))).contains("exited with 3; restarting");
    }

    @Test
    void requiredUnitsStartFirstAndUserDropsPrivileges() throws Exception {
        assumeTrue(Libc.geteuid() == 0, "dropping privileges needs root");
        Path who = dir.resolve("who");
        unit("db.service", "[Service]\nType=oneshot\nRemainAfterExit=yes\nUser=tester\nExecStart=/bin/sh -c 'id -u > " + who + "'\n");
        unit("app.service", "[Unit]\nRequires=db.service\nAfter=db.service\n[Service]\nExecStart=/bin/sleep 60\n");
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        manager.start("app");
        assertThat(manager.status("db").state()).isEqualTo(ServiceManager.State.ACTIVE);
        assertThat(Files.readString(who).strip()).isEqualTo("1000");
    }

    @Test
    void notifyServicesAreActiveOnlyOnceTheyReportReady() throws Exception {
        assumeTrue(new java.io.File("/usr/bin/systemd-notify").canExecute() || new java.io.File("/bin/systemd-notify").canExecute(),
                "systemd-notify sends the datagrams");
        Path before = dir.resolve("before-ready");
        // reports readiness only after a second: start must not return before that
        unit("ready.service", "[Service]\nType=notify\nNotifyAccess=all\nExecStart=/bin/sh -c 'sleep 1; touch " + before
                + "; systemd-notify --status=serving; systemd-notify --ready; exec sleep 60'\n");
        manager.start("ready");
        assertThat(before).exists();
        assertThat(manager.status("ready").state()).isEqualTo(ServiceManager.State.ACTIVE);
        await().atMost(Duration.ofSeconds(5)).until(() -> manager.status("ready").statusText().equals("serving"));

        unit("mute.service", "[Service]\nType=notify\nTimeoutStartSec=1\nExecStart=/bin/sleep 60\n");
        assertThatThrownBy(() -> manager.start("mute")).hasMessageContaining("READY=1");
        assertThat(manager.status("mute").state()).isEqualTo(ServiceManager.State.FAILED);

        unit("dies.service", "[Service]\nType=notify\nExecStart=/bin/sh -c 'exit 4'\n");
        assertThatThrownBy(() -> manager.start("dies")).hasMessageContaining("exited with 4");
    }

    @Test
    void forkingServicesAreTrackedByTheirPidFile() throws Exception {
        Path pidFile = dir.resolve("daemon.pid");
        unit("forky.service", "[Service]\nType=forking\nPIDFile=" + pidFile + "\nExecStart=/bin/sh -c 'sleep 60 & echo $! > " + pidFile + "'\n");
        manager.start("forky");
        var status = manager.status("forky");
        assertThat(status.state()).isEqualTo(ServiceManager.State.ACTIVE);
        assertThat(status.mainPid()).isEqualTo(Long.parseLong(Files.readString(pidFile).strip()));
        manager.stop("forky");
        await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(status.mainPid()).map(p -> !p.isAlive()).orElse(true));
    }

    @Test
    void atBootEnabledUnitsStartAfterTheUnitsTheyNameInAfter() throws Exception {
        Path order = dir.resolve("order");
        // "a-web" sorts first but must wait for "z-db", which it names in After= only
        unit("a-web.service", "[Unit]\nAfter=z-db.service\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'echo web >> " + order + "'\n[Install]\nWantedBy=multi-user.target\n");
        unit("z-db.service", "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'echo db >> " + order + "'\n[Install]\nWantedBy=multi-user.target\n");
        manager.enable("a-web");
        manager.enable("z-db");
        manager.startEnabled();
        assertThat(Files.readAllLines(order)).containsExactly("db", "web");
    }

    @Test
    void enableLinksIntoTheTargetAndUnknownUnitsAreErrors() throws Exception {
        unit("svc.service", "[Service]\nExecStart=/bin/sleep 60\n[Install]\nWantedBy=multi-user.target\n");
        manager.enable("svc");
        assertThat(manager.enabled("svc")).isTrue();
        assertThat(Files.isSymbolicLink(units.resolve("multi-user.target.wants/svc.service"))).isTrue();
        manager.disable("svc");
        assertThat(manager.enabled("svc")).isFalse();
        assertThatThrownBy(() -> manager.start("nope")).hasMessageContaining("not found");
        assertThatThrownBy(() -> manager.status("nope")).hasMessageContaining("not found");
    }
}
