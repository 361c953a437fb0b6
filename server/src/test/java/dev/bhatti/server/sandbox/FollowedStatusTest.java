package dev.bhatti.server.sandbox;

import dev.bhatti.engine.VmState;
import dev.bhatti.server.store.SandboxStatus;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FollowedStatusTest {

    @Test
    void aRowFollowsTheSettledStatesOfItsVm() {
        assertThat(SandboxLifecycle.followedStatus(SandboxStatus.RUNNING, VmState.SUSPENDED)).contains(SandboxStatus.STOPPED);
        assertThat(SandboxLifecycle.followedStatus(SandboxStatus.STOPPED, VmState.RUNNING)).contains(SandboxStatus.RUNNING);
        assertThat(SandboxLifecycle.followedStatus(SandboxStatus.RUNNING, VmState.ERROR)).contains(SandboxStatus.ERROR);
        assertThat(SandboxLifecycle.followedStatus(SandboxStatus.RUNNING, VmState.PAUSED)).as("warm counts as running").isEmpty();
        assertThat(SandboxLifecycle.followedStatus(SandboxStatus.STOPPED, VmState.STOPPED)).isEmpty();
    }

    @Test
    void aVmCaughtMidWakeIsNeverWrittenIntoTheRow() {
        // a status read while another request woke the sandbox once stuck the row at "starting" for good
        assertThat(SandboxLifecycle.followedStatus(SandboxStatus.STOPPED, VmState.STARTING)).isEmpty();
        assertThat(SandboxLifecycle.followedStatus(SandboxStatus.RUNNING, VmState.STARTING)).isEmpty();
    }

    @Test
    void aRowBeingCreatedIsLeftToItsCreate() {
        assertThat(SandboxLifecycle.followedStatus(SandboxStatus.STARTING, VmState.RUNNING)).isEmpty();
        assertThat(SandboxLifecycle.followedStatus(SandboxStatus.STARTING, VmState.ERROR)).isEmpty();
    }
}
