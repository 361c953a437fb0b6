package dev.bhatti.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The docker tier on a real VM, as its users use it: Docker is up at boot under the agent's service manager,
 * the default user (uid 1000, group docker) builds an image from a local context and runs it, Compose brings
 * up two services that talk to each other by name, a killed dockerd is restarted and the journal says so,
 * and a cold stop and start keeps the engine and its images. Images come from {@code docker build} and from a
 * registry run in the guest (no Docker Hub here).
 */
@ExtendWith(DaemonLogOnFailure.class)
class TierDockerIT {

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-docker-").tiers("docker").logTail(200);

    /** A context whose image holds only the guest's busybox and the C library it needs (no Docker Hub here). */
    static final String CONTEXT = """
            set -e
            mkdir -p /workspace/hello/root/bin && cd /workspace/hello
            cp /bin/busybox root/bin/
            for lib in $(ldd /bin/busybox | grep -o '/[^ ]*'); do mkdir -p "root$(dirname "$lib")"; cp -L "$lib" "root$lib"; done
            cat >Dockerfile <<'D'
            FROM scratch
            COPY root/ /
            RUN ["/bin/busybox", "--install", "-s", "/bin"]
            CMD ["/bin/sh", "-c", "echo hello from a container on $(uname -r)"]
            D
            """;

    static final String COMPOSE = """
            version: "3"
            services:
              web:
                image: hello
                command: ["/bin/sh", "-c", "mkdir -p /www && echo served-by-web >/www/index.html && exec httpd -f -p 8000 -h /www"]
              client:
                image: hello
                depends_on: [web]
                command: ["/bin/sh", "-c", "until wget -qO- http://web:8000/; do sleep 1; done; exec sleep 3600"]
            """;

    @Test
    void buildsRunsComposesAndSurvivesACrashAndAColdRestart() throws Exception {
        // tiers are discovered from the images directory
        assertThat(bhatti.ok("image", "list").stdout()).contains("minimal").contains("docker");
        long created = System.nanoTime();
        bhatti.ok("create", "--name", "ci", "--image", "docker", "--cpus", "2", "--memory", "2048");
        // dockerd starts at boot: the default user may talk to it (group docker)
        await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(2))
                .until(() -> bhatti.cli("exec", "ci", "--", "docker", "info", "--format", "{{.ServerVersion}}").exit() == 0);
        System.out.printf("docker tier: create to `docker info` answering %d s%n", (System.nanoTime() - created) / 1_000_000_000L);
        assertThat(bhatti.exec("ci", "id", "-nG")).contains("docker");
        assertThat(bhatti.exec("ci", "docker", "info", "--format", "{{.Driver}} {{.CgroupDriver}}")).isEqualTo("overlay2 cgroupfs\n");
        assertThat(bhatti.exec("ci", "systemctl", "status", "docker")).contains("active (running)");

        bhatti.ok("exec", "ci", "--", "sh", "-c", CONTEXT);
        var build = bhatti.ok("exec", "ci", "--", "docker", "build", "-t", "hello", "/workspace/hello");
        assertThat(build.stdout()).contains("Successfully tagged hello:latest");
        assertThat(bhatti.exec("ci", "docker", "run", "--rm", "hello")).startsWith("hello from a container on ");

        // pull: from a registry in reach (Debian's docker-registry, the host's binary run in the guest: no traffic leaves it)
        var copied = BhattiProcess.cliWithInput(bhatti.daemon().env, Path.of("/usr/bin/docker-registry"),
                "file", "write", "--user", "root", "ci", "/usr/local/bin/docker-registry");
        assertThat(copied.exit()).as(copied.toString()).isZero();
        Path unit = Files.writeString(bhatti.dataDir().resolve("registry.service"), """
                [Service]
                ExecStart=/usr/local/bin/docker-registry serve /etc/registry.yml
                """);
        Path config = Files.writeString(bhatti.dataDir().resolve("registry.yml"), """
                version: 0.1
                storage: {filesystem: {rootdirectory: /var/lib/registry}}
                http: {addr: "127.0.0.1:5000"}
                """);
        assertThat(BhattiProcess.cliWithInput(bhatti.daemon().env, unit, "file", "write", "--user", "root", "ci",
                "/etc/systemd/system/registry.service").exit()).isZero();
        assertThat(BhattiProcess.cliWithInput(bhatti.daemon().env, config, "file", "write", "--user", "root", "ci", "/etc/registry.yml").exit()).isZero();
        bhatti.ok("exec", "ci", "--", "sudo", "sh", "-c", "chmod 0755 /usr/local/bin/docker-registry && systemctl start registry");
        bhatti.ok("exec", "ci", "--", "docker", "tag", "hello", "localhost:5000/hello");
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .until(() -> bhatti.cli("exec", "ci", "--", "docker", "push", "localhost:5000/hello").exit() == 0);
        bhatti.ok("exec", "ci", "--", "docker", "rmi", "localhost:5000/hello");
        bhatti.ok("exec", "ci", "--", "docker", "pull", "localhost:5000/hello");
        assertThat(bhatti.exec("ci", "docker", "run", "--rm", "localhost:5000/hello")).startsWith("hello from a container on ");

        Path compose = Files.writeString(bhatti.dataDir().resolve("compose.yaml"), COMPOSE);
        bhatti.ok("exec", "ci", "--", "mkdir", "-p", "/workspace/app");
        var wrote = BhattiProcess.cliWithInput(bhatti.daemon().env, compose, "file", "write", "ci", "/workspace/app/docker-compose.yml");
        assertThat(wrote.exit()).as(wrote.toString()).isZero();
        bhatti.ok("exec", "ci", "--", "sh", "-c", "cd /workspace/app && docker compose up -d");
        // the client reaches the web service by its name on the project's network
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(2))
                .until(() -> bhatti.cli("exec", "ci", "--", "sh", "-c", "cd /workspace/app && docker compose logs client").stdout()
                        .contains("served-by-web"));
        bhatti.ok("exec", "ci", "--", "sh", "-c", "cd /workspace/app && docker compose down");

        // a crashed dockerd: the service manager starts it again and its journal says so
        String before = bhatti.exec("ci", "pidof", "dockerd").strip();
        bhatti.ok("exec", "ci", "--", "sudo", "kill", "-KILL", before);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(2)).until(() -> {
            var pid = bhatti.cli("exec", "ci", "--", "pidof", "dockerd");
            return pid.exit() == 0 && !pid.stdout().strip().equals(before)
                    && bhatti.cli("exec", "ci", "--", "docker", "info", "--format", "{{.ServerVersion}}").exit() == 0;
        });
        assertThat(bhatti.exec("ci", "journalctl", "-u", "docker")).contains("docker.service exited with");

        // cold: the VM's state goes to disk and comes back; the engine and the image are still there
        bhatti.ok("stop", "ci");
        long started = System.nanoTime();
        bhatti.ok("start", "ci");
        assertThat(bhatti.exec("ci", "docker", "run", "--rm", "hello")).startsWith("hello from a container on ");
        System.out.printf("docker tier: start after stop to a container run %d s%n", (System.nanoTime() - started) / 1_000_000_000L);
    }
}
