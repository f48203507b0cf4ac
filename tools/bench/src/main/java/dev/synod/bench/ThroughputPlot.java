package dev.synod.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Draws throughput against client count, one line per system, for one workload. */
final class ThroughputPlot {
  private ThroughputPlot() {}

  /** Writes a PNG to {@code png} (".png" is added by XChart when missing). */
  static void write(List<PhaseResult> results, String workload, String title, Path png) throws IOException {
    XYChart chart = new XYChartBuilder().width(800).height(500).title(title)
        .xAxisTitle("clients (closed loop, spread over 3 servers)").yAxisTitle("operations per second").build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    chart.getStyler().setXAxisLogarithmic(true);
    chart.getStyler().setYAxisMin(0.0);
    chart.getStyler().setDecimalPattern("#,###");
    chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
    for (SystemKind k : SystemKind.values()) {
      List<PhaseResult> series = results.stream()
          .filter(r -> r.system().equals(k.label()) && r.workload().equals(workload))
          .sorted((a, b) -> Integer.compare(a.clients(), b.clients()))
          .toList();
      if (series.isEmpty()) {
        continue;
      }
      chart.addSeries(k.label(), series.stream().map(r -> (double) r.clients()).toList(),
          series.stream().map(PhaseResult::opsPerSecond).toList()).setMarker(SeriesMarkers.CIRCLE);
    }
    String file = png.toString();
    BitmapEncoder.saveBitmap(chart, file.endsWith(".png") ? file.substring(0, file.length() - 4) : file,
        BitmapEncoder.BitmapFormat.PNG);
  }
}
