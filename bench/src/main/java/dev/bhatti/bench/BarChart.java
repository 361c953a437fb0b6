package dev.bhatti.bench;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A PNG of every scenario: a horizontal bar to p50, a whisker from p50 to p99 with a tick at p95, on a
 * logarithmic millisecond axis, grouped by section; floors (scenarios others compare to) in grey. JDK only.
 */
final class BarChart {
    private static final int WIDTH = 1400, LABEL = 430, RIGHT = 40, ROW = 18, TOP = 50, SECTION_GAP = 24, BOTTOM = 40;
    private static final Color BAR = new Color(0x3b7dd8), FLOOR = new Color(0x9a9a9a), WHISKER = new Color(0x222222),
            GRID = new Color(0xe4e4e4), TEXT = new Color(0x111111);

    private BarChart() {}

    static void write(Results results, String title, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        var sections = MarkdownReport.bySection(results);
        List<Results.Scenario> all = results.all();
        var baselines = all.stream().map(Results.Scenario::baseline).filter(Objects::nonNull).collect(Collectors.toSet());
        double lo = all.stream().mapToDouble(s -> s.samples().p50()).filter(v -> v > 0).min().orElse(0.01);
        double hi = all.stream().mapToDouble(s -> s.samples().p99()).max().orElse(1);
        int minExp = (int) Math.floor(Math.log10(Math.max(lo, 1e-4)));
        int maxExp = (int) Math.ceil(Math.log10(Math.max(hi, 1e-3)));
        if (maxExp <= minExp) maxExp = minExp + 1;
        int height = TOP + all.size() * ROW + sections.size() * SECTION_GAP + BOTTOM;
        var img = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, height);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.setColor(TEXT);
            g.drawString(title, 10, 20);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            g.drawString("ms, log scale: bar = p50, whisker = p50..p99, tick = p95; grey = a baseline of another scenario", 10, 38);
            int plotW = WIDTH - LABEL - RIGHT;
            var axis = new Axis(minExp, maxExp, LABEL, plotW);
            for (int e = minExp; e <= maxExp; e++) {
                int x = axis.x(Math.pow(10, e));
                g.setColor(GRID);
                g.drawLine(x, TOP - 4, x, height - BOTTOM + 4);
                g.setColor(TEXT);
                g.drawString(tickLabel(e), x - 10, height - BOTTOM + 18);
            }
            int y = TOP;
            for (var sec : sections.entrySet()) {
                g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
                g.setColor(TEXT);
                y += SECTION_GAP - 6;
                g.drawString(sec.getKey(), 10, y);
                y += 6;
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
                for (var s : sec.getValue()) {
                    var m = s.samples();
                    int mid = y + ROW / 2;
                    g.setColor(TEXT);
                    String label = s.label();
                    if (g.getFontMetrics().stringWidth(label) > LABEL - 30) label = label.substring(0, Math.min(label.length(), 60)) + "…";
                    g.drawString(label, 20, mid + 4);
                    int x50 = axis.x(m.p50());
                    g.setColor(baselines.contains(s.label()) ? FLOOR : BAR);
                    g.fillRect(LABEL, y + 3, Math.max(1, x50 - LABEL), ROW - 6);
                    g.setColor(WHISKER);
                    g.setStroke(new BasicStroke(1.2f));
                    int x99 = axis.x(m.p99());
                    int x95 = axis.x(m.p95());
                    g.drawLine(x50, mid, x99, mid);
                    g.drawLine(x99, mid - 4, x99, mid + 4);
                    g.drawLine(x95, mid - 2, x95, mid + 2);
                    g.drawString(Results.ms(m.p50()), Math.min(x99 + 6, WIDTH - RIGHT - 10), mid + 4);
                    y += ROW;
                }
            }
        } finally {
            g.dispose();
        }
        ImageIO.write(img, "png", png.toFile());
    }

    /** Maps milliseconds to x on a log10 axis from 10^minExp to 10^maxExp. */
    record Axis(int minExp, int maxExp, int x0, int width) {
        int x(double ms) {
            double v = Math.log10(Math.max(ms, Math.pow(10, minExp)));
            return x0 + (int) Math.round((v - minExp) / (maxExp - minExp) * width);
        }
    }

    private static String tickLabel(int exp) {
        if (exp >= 0) return String.valueOf((long) Math.pow(10, exp));
        return String.valueOf(Math.pow(10, exp)).replaceAll("0+$", "");
    }
}
