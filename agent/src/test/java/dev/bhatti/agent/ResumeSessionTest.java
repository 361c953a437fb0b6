package dev.bhatti.agent;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ResumeSessionTest {

    @Test
    void aNewHostnameReplacesTheLoopbackNameInHosts() {
        String hosts = "127.0.0.1\tlocalhost\n127.0.1.1\told\n::1\t\tlocalhost\n";
        assertThat(ResumeSession.withHostname(hosts, "clone")).isEqualTo("127.0.0.1\tlocalhost\n127.0.1.1\tclone\n::1\t\tlocalhost\n");
    }

    @Test
    void aHostsFileWithoutOneGetsOne() {
        assertThat(ResumeSession.withHostname("127.0.0.1\tlocalhost\n", "clone")).isEqualTo("127.0.0.1\tlocalhost\n127.0.1.1\tclone\n");
        assertThat(ResumeSession.withHostname("127.0.0.1\tlocalhost", "clone")).isEqualTo("127.0.0.1\tlocalhost\n127.0.1.1\tclone\n");
    }

    @Test
    void duplicateLinesCollapseToOne() {
        assertThat(ResumeSession.withHostname("127.0.1.1 a\n127.0.1.1 b\n", "c")).isEqualTo("127.0.1.1\tc\n");
    }
}
