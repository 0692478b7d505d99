package dev.edgesync.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The status page ({@code GET /ui}) of a node of a running three-node cluster, loaded in headless
 * Chromium: it shows each peer connected, with its lag and its digest agreeing with the node's; with
 * a peer down it shows that peer disconnected and keeps showing the others. Saves a screenshot
 * ({@code target/status-page.png}; docs/status-page.png is one). Needs Chromium ({@code
 * /usr/bin/chromium}, or the path in {@code EDGESYNC_CHROMIUM}); installs Debian's package where it
 * can (see {@link #chromiumOrInstall}), and is skipped where there is none.
 */
class StatusPageTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  private static Path chromium() {
    String configured = System.getenv("EDGESYNC_CHROMIUM");
    for (String candidate : new String[] {configured, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
      if (candidate != null && Files.isExecutable(Path.of(candidate))) {
        return Path.of(candidate);
      }
    }
    return null;
  }

  /**
   * Chromium, installed from Debian's packages when it is missing and this runs as root on a
   * machine with apt-get (a CI machine): the test needs a browser, and the project installs what
   * it needs. Skipped (with the reason) when that is not possible; {@code EDGESYNC_INSTALL_CHROMIUM=false}
   * turns the install off.
   */
  private static Path chromiumOrInstall() throws IOException, InterruptedException {
    Path found = chromium();
    if (found != null || "false".equals(System.getenv("EDGESYNC_INSTALL_CHROMIUM"))) {
      return found;
    }
    Path apt = Path.of("/usr/bin/apt-get");
    if (!Files.isExecutable(apt) || !"root".equals(System.getProperty("user.name"))) {
      return null;
    }
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(8);
    for (List<String> step : List.of(
        List.of("apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"),
        List.of("apt-get", "update", "-q"),
        List.of("apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"))) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      System.out.println("StatusPageTest: no Chromium here; running " + String.join(" ", step));
      Process p = new ProcessBuilder(step).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(left, TimeUnit.NANOSECONDS)) {
        p.destroyForcibly();
        break;
      }
      if (chromium() != null) {
        return chromium();
      }
    }
    return chromium();
  }

  @Test
  void thePageShowsPeersLagAndDigestAgreementAlsoWithAPeerDown() throws Exception {
    Path browser = chromiumOrInstall();
    Assumptions.assumeTrue(browser != null, "no Chromium here, and it could not be installed (set EDGESYNC_CHROMIUM to its path)");
    try (Cluster c = cleanup.newCluster("ui", false)) {
      c.add("site-a");
      c.add("site-b");
      c.add("site-c");
      c.fullMesh().startAll();
      c.node("site-a").http().bulk(Data.keys("price/", 500, "9.90"));
      c.awaitConverged();
      String url = "http://" + c.node("site-a").spec.httpAddress() + "/ui";

      await("the page shows both peers connected, with digests that agree")
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                String dom = dump(browser, c.dir(), url);
                assertTrue(dom.contains("site-a"), "the node's id");
                for (String peer : List.of("site-b", "site-c")) {
                  String row = row(dom, "data-peer", peer);
                  assertTrue(row.contains("class=\"connected ok\">yes<"), peer + " connected: " + row);
                  assertTrue(row.contains("class=\"digest ok\">agrees<"), peer + "'s digest agrees: " + row);
                  assertTrue(row.contains("class=\"lag\">0<"), peer + " lag 0: " + row);
                  assertTrue(row(dom, "data-subscriber", peer).contains(">yes<"), peer + " pulls from site-a");
                }
                assertTrue(dom.contains("<polyline"), "the lag chart draws a line per peer");
              });
      screenshot(browser, url, Path.of("target", "status-page.png"));

      assertEquals(0, c.node("site-c").terminate(), "exit code of SIGTERM");
      await("the page shows site-c down and site-b still connected")
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                String dom = dump(browser, c.dir(), url);
                assertTrue(row(dom, "data-peer", "site-c").contains("class=\"connected bad\">NO<"), "site-c down");
                assertTrue(row(dom, "data-peer", "site-b").contains("class=\"connected ok\">yes<"), "site-b up");
              });
    }
  }

  /** The {@code <tr>} whose {@code attribute} is {@code value}, or fails. */
  private static String row(String dom, String attribute, String value) {
    Matcher m = Pattern.compile("<tr " + attribute + "=\"" + Pattern.quote(value) + "\">(.*?)</tr>", Pattern.DOTALL).matcher(dom);
    assertTrue(m.find(), "no row " + attribute + "=" + value + " in the page:\n" + dom);
    return m.group(1);
  }

  /** The page's DOM after its script ran (one refresh of /status at least). */
  private static String dump(Path browser, Path dir, String url) throws IOException, InterruptedException {
    return run(browser, dir, List.of("--virtual-time-budget=3000", "--dump-dom", url));
  }

  private static void screenshot(Path browser, String url, Path png) throws IOException, InterruptedException {
    Files.createDirectories(png.toAbsolutePath().getParent());
    run(browser, png.toAbsolutePath().getParent(),
        List.of("--window-size=1280,760", "--virtual-time-budget=6000", "--screenshot=" + png.toAbsolutePath(), url));
    assertTrue(Files.size(png) > 10_000, "a screenshot was saved: " + png);
  }

  private static String run(Path browser, Path dir, List<String> args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(browser.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--user-data-dir=" + dir.resolve("chromium-profile").toAbsolutePath()));
    command.addAll(args);
    Path out = Files.createTempFile(dir, "chromium", ".out");
    Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish within 60 s: " + command);
    }
    return Files.readString(out);
  }
}
