package dev.edgesync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The curl examples of the README's HTTP API section, run as they are written (with bash and curl)
 * against a real node with a peer, so that they stay true: every request must succeed (curl
 * {@code --fail}), and what they print must show the effect the README describes. Long polls,
 * event streams and {@code edgesync watch} are cut after a few seconds, which counts as success.
 */
class ReadmeExamplesTest {
  @RegisterExtension static final ProcessCleanup cleanup = new ProcessCleanup();

  /** The README's code blocks that talk to {@code $N}, in order. */
  static List<String> examples() throws IOException {
    Path readme = Path.of(System.getProperty("edgesync.root", "..")).resolve("README.md");
    List<String> blocks = new ArrayList<>();
    StringBuilder block = null;
    for (String line : Files.readAllLines(readme, StandardCharsets.UTF_8)) {
      if (block == null && line.equals("```bash")) {
        block = new StringBuilder();
      } else if (block != null && line.equals("```")) {
        if (block.indexOf("$N") >= 0) {
          blocks.add(block.toString());
        }
        block = null;
      } else if (block != null) {
        block.append(line).append('\n');
      }
    }
    return blocks;
  }

  static boolean has(String command) {
    try {
      return new ProcessBuilder("bash", "-c", "command -v " + command).start().waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Test
  void theHttpApiExamplesOfTheReadmeWorkAsWritten() throws Exception {
    assumeTrue(has("curl") && has("timeout"), "bash, curl and timeout are needed to run the README's examples");
    List<String> examples = examples();
    assertTrue(examples.size() >= 3, "the README's HTTP API examples were found: " + examples.size());

    Cluster c = cleanup.newCluster("readme", false);
    NodeProcess a = c.add("a");
    c.add("b");
    c.connect("a", "b").startAll();
    String n = "http://" + a.spec.httpAddress();
    // The conditional-write example reads the ETag of a key that exists.
    a.http().put("stock/sku-42", "42");

    String prelude =
        """
        set -euo pipefail
        N=%s
        curl() {
          local rc=0
          command curl --silent --show-error --fail --max-time 4 "$@" || rc=$?
          # 28: cut after 4 s, as a long poll or an event stream is
          if [ "$rc" -ne 0 ] && [ "$rc" -ne 28 ]; then echo "FAILED: curl $* (exit $rc)" >&2; return "$rc"; fi
          echo
        }
        edgesync() {
          local rc=0
          timeout 6 "%s" -jar "%s" "$@" || rc=$?
          if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then echo "FAILED: edgesync $* (exit $rc)" >&2; return "$rc"; fi
        }
        """
            .formatted(n, NodeProcess.javaBinary(), NodeProcess.jar());
    StringBuilder script = new StringBuilder(prelude);
    for (String e : examples) {
      script.append(e.replace("http://127.0.0.1:7480", n)).append('\n');
    }
    Path file = c.dir().resolve("readme-examples.sh");
    Files.writeString(file, script);
    Path out = c.dir().resolve("readme-examples.out");
    Process p = new ProcessBuilder("bash", file.toString()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the examples finished");
    String printed = Files.readString(out, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), "the README's examples failed; script " + file + ", output:\n" + printed);

    // What the examples print shows what the README says they do.
    assertTrue(printed.contains("\"committed\":2"), "bulk write: " + printed);
    assertTrue(printed.contains("\"keyBase64\":\"AP8=\""), "binary key listed: " + printed);
    assertTrue(printed.contains("\"status\":\"serving\""), "health: " + printed);
    assertTrue(printed.contains("edgesync_"), "metrics: " + printed);
    assertTrue(printed.contains("event: open"), "the event stream opened: " + printed);
    assertTrue(printed.contains("price/sku-42\t(deleted)"), "edgesync watch printed the delete: " + printed);
    assertTrue(printed.contains("\"key\":\"order/1001\""), "create-only write: " + printed);
    assertEquals("41", a.http().get("stock/sku-42").orElseThrow(), "the If-Match write was made");
  }
}
