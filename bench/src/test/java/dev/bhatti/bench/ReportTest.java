package dev.bhatti.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ReportTest {

    private static Results sample() {
        var r = new Results();
        Samples floor = r.add("floors", "agent exec true", null);
        Samples exec = r.add("exec", "exec true (HTTP)", "agent exec true");
        for (int i = 1; i <= 10; i++) {
            floor.add(i * 100_000L);          // 0.1 .. 1 ms
            exec.add(i * 1_000_000L);         // 1 .. 10 ms
        }
        r.add("exec", "never measured", null);
        r.jmh(new Results.JmhRow("JsonBench.writeSandbox", "avgt", 3, 812.5, 20.25, "ns/op"));
        r.note("a note");
        return r;
    }

    @Test
    void ratioIsP50OverTheBaselineP50() {
        Results r = sample();
        var exec = r.all().stream().filter(s -> s.label().equals("exec true (HTTP)")).findFirst().orElseThrow();
        assertThat(r.ratio(exec)).isEqualTo(5.0 / 0.5);
        var floor = r.all().getFirst();
        assertThat(r.ratio(floor)).isNaN();
    }

    @Test
    void markdownHasTheHeaderEveryMeasuredScenarioAndTheJmhTable() {
        var facts = new HostFacts();
        facts.put("accelerator", "tcg");
        facts.put("cpu", "Test CPU");
        String md = MarkdownReport.render(facts, sample(), "x.png", "OK");
        assertThat(md).contains("| accelerator | tcg |", "| cpu | Test CPU |", "| result | OK |");
        assertThat(md).contains("## floors", "## exec");
        assertThat(md).contains("| exec true (HTTP) | 10 | 5.00 | 10.0 | 10.0 | agent exec true | 10.00× |");
        assertThat(md).doesNotContain("never measured");
        assertThat(md).contains("| JsonBench.writeSandbox | avgt | 812.5 | 20.3 | ns/op |");
        assertThat(md).contains("- a note", "![", "(x.png)");
    }

    @Test
    void chartIsAPngWithARowPerScenario(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("c.png");
        BarChart.write(sample(), "test", png);
        var img = ImageIO.read(png.toFile());
        assertThat(img).isNotNull();
        assertThat(img.getWidth()).isEqualTo(1400);
        assertThat(img.getHeight()).isGreaterThan(100);
    }

    @Test
    void logAxisMapsDecadesToEqualWidths() {
        var axis = new BarChart.Axis(-1, 3, 100, 400);
        assertThat(axis.x(0.1)).isEqualTo(100);
        assertThat(axis.x(1)).isEqualTo(200);
        assertThat(axis.x(1000)).isEqualTo(500);
        assertThat(axis.x(0.0001)).isEqualTo(100); // clamped to the axis
    }
}
