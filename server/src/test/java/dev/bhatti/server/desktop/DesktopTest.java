package dev.bhatti.server.desktop;

import dev.bhatti.server.error.DomainException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DesktopTest {

    @Test
    void coordinatesAreNonNegativeAndWithinWhatXAllows() {
        assertThat(Desktop.coordinate(0, "x")).isZero();
        assertThat(Desktop.coordinate(1279, "x")).isEqualTo(1279);
        assertThatThrownBy(() -> Desktop.coordinate(null, "x")).isInstanceOf(DomainException.Invalid.class).hasMessageContaining("x is required");
        assertThatThrownBy(() -> Desktop.coordinate(-1, "y")).isInstanceOf(DomainException.Invalid.class)
                .hasMessageContaining("y must be between 0 and 32767 (got -1)");
        assertThatThrownBy(() -> Desktop.coordinate(40_000, "x")).isInstanceOf(DomainException.Invalid.class);
    }

    @Test
    void buttonsByNameOrNumber() {
        assertThat(Desktop.Button.parse(null)).isEqualTo(Desktop.Button.LEFT);
        assertThat(Desktop.Button.parse("right")).isEqualTo(Desktop.Button.RIGHT);
        assertThat(Desktop.Button.parse("2")).isEqualTo(Desktop.Button.MIDDLE);
        assertThat(Desktop.Button.parse("wheel-down")).isEqualTo(Desktop.Button.WHEEL_DOWN);
        assertThatThrownBy(() -> Desktop.Button.parse("sideways")).isInstanceOf(DomainException.Invalid.class)
                .hasMessageContaining("button must be left, middle, right");
    }

    @Test
    void textIsBoundedAndNotEmpty() {
        assertThat(Desktop.text("héllo\n")).isEqualTo("héllo\n");
        assertThatThrownBy(() -> Desktop.text("")).isInstanceOf(DomainException.Invalid.class).hasMessageContaining("text is required");
        assertThatThrownBy(() -> Desktop.text(null)).isInstanceOf(DomainException.Invalid.class);
        assertThatThrownBy(() -> Desktop.text("a".repeat(Desktop.MAX_TEXT_CHARS + 1))).isInstanceOf(DomainException.Invalid.class)
                .hasMessageContaining("at most 4096");
        assertThatThrownBy(() -> Desktop.text("a\0b")).isInstanceOf(DomainException.Invalid.class);
    }

    @Test
    void keysAreCombinationsOfKeyNames() {
        assertThat(Desktop.keys("ctrl+l")).containsExactly("ctrl+l");
        assertThat(Desktop.keys(" ctrl+a  BackSpace Return ")).containsExactly("ctrl+a", "BackSpace", "Return");
        assertThat(Desktop.keys("ctrl+shift+Tab")).containsExactly("ctrl+shift+Tab");
        for (String bad : new String[] {"", " ", "ctrl+", "+l", "ctrl++l", "ctrl+;", "$(reboot)", "-l", "a".repeat(300)}) {
            assertThatThrownBy(() -> Desktop.keys(bad)).as(bad).isInstanceOf(DomainException.Invalid.class);
        }
    }
}
