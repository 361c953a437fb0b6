package dev.bhatti.server.forward;

import dev.bhatti.server.error.DomainException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Real loopback listeners; no connection is made, so the tunnel (the VM side) is never used. */
class ForwardsTest {

    static final Forwards.Tunnel UNUSED = (id, port, client) -> { throw new AssertionError("no connection is made"); };

    @Test
    void aSandboxHasAtMostTheCapOfForwardsAndClosingOneMakesRoom() {
        try (var forwards = new Forwards(UNUSED)) {
            for (int i = 0; i < Forwards.MAX_PER_SANDBOX; i++) forwards.open("sb1", 3000 + i, 0);
            assertThatThrownBy(() -> forwards.open("sb1", 9999, 0)).isInstanceOf(DomainException.Conflict.class)
                    .hasMessageContaining("the most it may have").hasMessageContaining("close one first");
            assertThat(forwards.list("sb1")).hasSize(Forwards.MAX_PER_SANDBOX);
            assertThat(forwards.open("sb2", 80, 0).hostPort()).as("the cap is per sandbox").isPositive();

            int port = forwards.list("sb1").getFirst().hostPort();
            assertThat(forwards.close("sb1", port)).isEqualTo(1);
            assertThat(forwards.open("sb1", 9999, 0).guestPort()).isEqualTo(9999);
        }
    }

    @Test
    void concurrentOpensDoNotPassTheCapTogether() throws Exception {
        int cap = 8;
        try (var forwards = new Forwards(UNUSED, cap); var pool = Executors.newFixedThreadPool(8)) {
            var refused = new ConcurrentLinkedQueue<DomainException>();
            var tries = new ArrayList<Future<?>>();
            for (int i = 0; i < 40; i++) {
                int guest = 1000 + i;
                tries.add(pool.submit(() -> {
                    try {
                        forwards.open("sb", guest, 0);
                    } catch (DomainException e) {
                        refused.add(e);
                    }
                }));
            }
            for (var t : tries) t.get();
            assertThat(forwards.list("sb")).hasSize(cap);
            assertThat(refused).hasSize(40 - cap).allSatisfy(e -> assertThat(e).isInstanceOf(DomainException.Conflict.class));
        }
    }
}
