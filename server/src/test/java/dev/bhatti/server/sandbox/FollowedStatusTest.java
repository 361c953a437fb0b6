package dev.bhatti.server.sandbox;

import dev.bhatti.engine.VmState;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FollowedStatusTest {

    @Test
    void aRowFollowsTheSettledStatesOfItsVm() {
        assertThat(SandboxService.followedStatus("running", VmState.SUSPENDED)).contains("stopped");
        assertThat(SandboxService.followedStatus("stopped", VmState.RUNNING)).contains("running");
        assertThat(SandboxService.followedStatus("running", VmState.ERROR)).contains("error");
        assertThat(SandboxService.followedStatus("running", VmState.PAUSED)).as("warm counts as running").isEmpty();
        assertThat(SandboxService.followedStatus("stopped", VmState.STOPPED)).isEmpty();
    }

    @Test
    void aVmCaughtMidWakeIsNeverWrittenIntoTheRow() {
        // a status read while another request woke the sandbox once stuck the row at "starting" for good
        assertThat(SandboxService.followedStatus("stopped", VmState.STARTING)).isEmpty();
        assertThat(SandboxService.followedStatus("running", VmState.STARTING)).isEmpty();
    }

    @Test
    void aRowBeingCreatedIsLeftToItsCreate() {
        assertThat(SandboxService.followedStatus("starting", VmState.RUNNING)).isEmpty();
        assertThat(SandboxService.followedStatus("starting", VmState.ERROR)).isEmpty();
    }
}
