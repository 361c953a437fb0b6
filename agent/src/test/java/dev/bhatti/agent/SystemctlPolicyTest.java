package dev.bhatti.agent;

import dev.bhatti.agent.services.UnitName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Who may run which systemctl verb, how command lines are read, and which unit names are accepted. */
class SystemctlPolicyTest {

    static final SystemctlPolicy.Caller USER = new SystemctlPolicy.Caller("bhatti", false);

    static SystemctlPolicy.Decision decide(SystemctlPolicy.Caller caller, String... args) {
        return SystemctlPolicy.decide(SystemctlRequest.parse(List.of(args)), caller);
    }

    @ParameterizedTest
    @ValueSource(strings = {"status", "is-active", "is-enabled", "is-failed", "show", "cat", "list-units", "list-unit-files",
            "is-system-running"})
    void everyoneMayLook(String verb) {
        assertThat(decide(USER, verb, "nginx").allowed()).isTrue();
        assertThat(decide(SystemctlPolicy.Caller.ROOT, verb, "nginx").allowed()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"start", "stop", "restart", "reload", "try-restart", "enable", "disable", "mask", "unmask",
            "kill", "daemon-reload", "reset-failed", "preset", "reenable"})
    void onlyRootMayChange(String verb) {
        var refused = decide(USER, "--no-block", verb, "nginx");
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.exitCode()).isEqualTo(SystemctlPolicy.EXIT_NO_PERMISSION).isEqualTo(4);
        assertThat(refused.message()).startsWith("Failed to " + verb + " nginx: Access denied\n")
                .contains("bhatti").contains("sudo systemctl " + verb + " nginx");
        assertThat(decide(SystemctlPolicy.Caller.ROOT, verb, "nginx").allowed()).isTrue();
    }

    @Test
    void noVerbListsUnitsWhichAnyoneMay() {
        assertThat(SystemctlRequest.parse(List.of()).verb()).isEqualTo("list-units");
        assertThat(decide(USER).allowed()).isTrue();
        assertThat(decide(USER, "--no-pager").allowed()).isTrue();
    }

    @Test
    void anUnknownVerbIsRefusedToEveryoneAlike() {
        for (var caller : List.of(USER, SystemctlPolicy.Caller.ROOT)) {
            var d = decide(caller, "isolate", "rescue.target");
            assertThat(d.allowed()).isFalse();
            assertThat(d.exitCode()).isEqualTo(1);
            assertThat(d.message()).isEqualTo("Unknown command verb 'isolate'.");
        }
    }

    @Test
    void aVerbHiddenAmongOptionsIsStillTheVerb() {
        // an option's value is not the verb: "-p stop" asks show for a property named stop
        var show = SystemctlRequest.parse(List.of("show", "-p", "stop", "nginx"));
        assertThat(show.verb()).isEqualTo("show");
        assertThat(show.units()).containsExactly("nginx");
        assertThat(decide(USER, "-p", "MainPID", "stop", "nginx").allowed()).isFalse();
        assertThat(decide(USER, "--quiet", "--now", "enable", "nginx").allowed()).isFalse();
    }

    @Test
    void optionsTheAgentActsOnAreRead() {
        var r = SystemctlRequest.parse(List.of("show", "--property=MainPID,ActiveState", "-pId", "--value", "a", "b"));
        assertThat(r.properties()).containsExactlyInAnyOrder("MainPID", "ActiveState", "Id");
        assertThat(r.valueOnly()).isTrue();
        assertThat(r.units()).containsExactly("a", "b");
        var l = SystemctlRequest.parse(List.of("list-units", "--state=failed", "--all", "--no-legend", "--type=service"));
        assertThat(l.states()).containsExactly("failed");
        assertThat(l.all()).isTrue();
        assertThat(l.noLegend()).isTrue();
        assertThatThrownBy(() -> SystemctlRequest.parse(List.of("show", "-p"))).hasMessage("option -p needs a value");
    }

    @Test
    void aCommandLineOfTooManyArgumentsIsRefused() {
        var args = new java.util.ArrayList<>(List.of("status"));
        args.addAll(Collections.nCopies(SystemctlRequest.MAX_ARGS, "x"));
        assertThatThrownBy(() -> SystemctlRequest.parse(args)).hasMessageContaining("too many arguments");
    }

    @Test
    void unitNamesAreSystemdsAndNeverPaths() {
        assertThat(UnitName.parse("nginx")).contains("nginx.service");
        assertThat(UnitName.parse("php8.2-fpm")).contains("php8.2-fpm.service");
        assertThat(UnitName.parse("getty@tty1.service")).contains("getty@tty1.service");
        assertThat(UnitName.parse("multi-user.target")).contains("multi-user.target");
        assertThat(UnitName.parse("ssh.socket")).contains("ssh.socket");
        for (String bad : List.of("", "../../etc/shadow", "/etc/passwd", "a/b.service", ".service", "a b", "a\0b",
                "x".repeat(300), "a@b@c")) {
            assertThat(UnitName.parse(bad)).as(bad).isEmpty();
        }
        assertThat(UnitName.isFull("nginx.service")).isTrue();
        assertThat(UnitName.isFull("nginx")).isFalse();
        assertThat(UnitName.isFull("multi-user.target.wants")).isFalse();
    }
}
