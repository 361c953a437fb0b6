package dev.bhatti.server.sandbox;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.auth.ApiKeys;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LimitsTest {

    /** Lookups take a name or an id: a name shaped like an id would shadow another sandbox (or be shadowed). */
    @Test
    void namesShapedLikeIdsAreRefusedWithTheReason() {
        String id = ApiKeys.randomHex(8);
        assertThat(Limits.ID_LIKE.matcher(id).matches()).as("the pattern is the id format").isTrue();
        for (String name : new String[]{id, "0123456789abcdef", "0123456789ABCDEF"}) {
            assertThatThrownBy(() -> Limits.name(name)).as(name).isInstanceOf(DomainException.Invalid.class)
                    .hasMessageContaining("form of an id");
        }
        // near misses are ordinary names
        for (String name : new String[]{"0123456789abcde", "0123456789abcdef0", "0123456789abcdeg", "web-0123456789ab", "deadbeef"}) {
            assertThat(Limits.name(name)).isEqualTo(name);
        }
    }
}
