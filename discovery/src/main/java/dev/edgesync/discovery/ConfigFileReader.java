package dev.edgesync.discovery;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a YAML or JSON configuration file into a Jackson tree, turning every failure into a
 * {@link ConfigException} that names the file and, for syntax errors, the line and column.
 *
 * <p>The format follows the extension: {@code .json} is JSON, {@code .yaml} and {@code .yml} are
 * YAML, and any other name is read as YAML, which also accepts most JSON. A key given twice in one
 * mapping is an error rather than a silent override. An empty file is an empty mapping. Files
 * larger than {@link #MAX_FILE_BYTES} are refused.
 *
 * <p>This class knows nothing about what the keys mean: {@link PeerFileSource} reads {@code
 * peers} from the tree, and the node's configuration loader reads the rest of the same tree.
 */
public final class ConfigFileReader {

  /** The largest configuration file read, in bytes. */
  public static final int MAX_FILE_BYTES = 1024 * 1024;

  /** The file formats this reader understands. */
  public enum Format {
    YAML,
    JSON
  }

  /** The field named in errors about the file as a whole rather than a value in it. */
  static final String WHOLE_FILE = "(file)";

  private static final ObjectMapper JSON = configure(new ObjectMapper());
  private static final ObjectMapper YAML = configure(new ObjectMapper(new YAMLFactory()));

  private ConfigFileReader() {}

  /** Returns the source that errors about {@code file} name: {@code "file <path>"}. */
  public static String sourceOf(Path file) {
    return "file " + file;
  }

  /** Returns the format {@code file} is read in, chosen by its extension. */
  public static Format formatOf(Path file) {
    Path name = file.getFileName();
    String lower = name == null ? "" : name.toString().toLowerCase(Locale.ROOT);
    return lower.endsWith(".json") ? Format.JSON : Format.YAML;
  }

  /**
   * Reads and parses {@code file}.
   *
   * @return the top-level mapping of the file; an empty mapping for an empty file
   * @throws ConfigException if the file cannot be read, is too large, is not valid YAML or JSON,
   *     or its top level is not a mapping
   */
  public static ObjectNode read(Path file) {
    return parse(readBytes(file), file);
  }

  /** Reads the bytes of {@code file}, at most {@link #MAX_FILE_BYTES}. */
  static byte[] readBytes(Path file) {
    String source = sourceOf(file);
    byte[] content;
    try (InputStream in = Files.newInputStream(file)) {
      content = in.readNBytes(MAX_FILE_BYTES + 1);
    } catch (NoSuchFileException e) {
      throw new ConfigException(
          source,
          WHOLE_FILE,
          file.toString(),
          "the file does not exist",
          "an existing, readable YAML or JSON file",
          e);
    } catch (IOException e) {
      throw new ConfigException(
          source,
          WHOLE_FILE,
          file.toString(),
          "the file cannot be read: " + e,
          "an existing, readable YAML or JSON file",
          e);
    }
    if (content.length > MAX_FILE_BYTES) {
      throw new ConfigException(
          source,
          WHOLE_FILE,
          file.toString(),
          "the file is larger than " + MAX_FILE_BYTES + " bytes",
          "a configuration file of at most " + MAX_FILE_BYTES + " bytes");
    }
    return content;
  }

  /** Parses {@code content}, read from {@code file}, in the format of that file's name. */
  static ObjectNode parse(byte[] content, Path file) {
    String source = sourceOf(file);
    Format format = formatOf(file);
    String expected = format == Format.JSON ? "a valid JSON document" : "a valid YAML document";
    JsonNode root;
    try {
      root = (format == Format.JSON ? JSON : YAML).readTree(content);
    } catch (JsonProcessingException e) {
      SyntaxError error = SyntaxError.of(e, format);
      String field =
          error.line > 0
              ? "line " + error.line + (error.column > 0 ? ", column " + error.column : "")
              : WHOLE_FILE;
      throw new ConfigException(
          source,
          field,
          error.line > 0 ? lineOf(content, error.line) : null,
          "not valid " + format + ": " + error.problem,
          expected,
          e);
    } catch (IOException e) {
      // The content is already in memory, so this is a decoding problem, e.g. bad UTF-8.
      throw new ConfigException(
          source,
          WHOLE_FILE,
          null,
          "not valid " + format + ": " + firstLine(e.getMessage()),
          expected,
          e);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return JsonNodeFactory.instance.objectNode();
    }
    if (!root.isObject()) {
      throw new ConfigException(
          source,
          WHOLE_FILE,
          firstLine(root.toString()),
          "the top level is not a mapping of keys to values",
          format == Format.JSON
              ? "a JSON object, e.g. {\"peers\": []}"
              : "a YAML mapping, e.g. peers: []");
    }
    return (ObjectNode) root;
  }

  private static ObjectMapper configure(ObjectMapper mapper) {
    return mapper
        .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  }

  /** Returns line {@code number} (counting from 1) of {@code content}, or null if absent. */
  private static String lineOf(byte[] content, int number) {
    String[] lines = new String(content, StandardCharsets.UTF_8).split("\r\n|\r|\n", -1);
    return number <= lines.length ? lines[number - 1] : null;
  }

  /** Where a parser stopped and why, in words a person editing the file can act on. */
  private static final class SyntaxError {
    private static final Pattern YAML_MARK =
        Pattern.compile("^ in '[^']*', line (\\d+), column (\\d+):?$");

    final int line;
    final int column;
    final String problem;

    private SyntaxError(int line, int column, String problem) {
      this.line = line;
      this.column = column;
      this.problem = problem;
    }

    static SyntaxError of(JsonProcessingException e, Format format) {
      if (format == Format.YAML) {
        SyntaxError yaml = fromYamlMessage(e.getOriginalMessage());
        if (yaml != null) {
          return yaml;
        }
      }
      JsonLocation location = e.getLocation();
      return new SyntaxError(
          location == null ? -1 : location.getLineNr(),
          location == null ? -1 : location.getColumnNr(),
          firstLine(e.getOriginalMessage()));
    }

    /**
     * Reads SnakeYAML's message, which has the form {@code [context] [mark] problem mark}, each
     * mark followed by an indented excerpt of the file. Jackson's own location points at the last
     * token it read, often a line above the mistake, so the problem's mark is the better guide.
     * Returns null if the message does not have that form.
     */
    private static SyntaxError fromYamlMessage(String message) {
      if (message == null) {
        return null;
      }
      List<String> phrases = new ArrayList<>();
      int line = -1;
      int column = -1;
      // Empty lines, including trailing ones that the limit of -1 keeps, are skipped below.
      for (String text : message.split("\\R", -1)) {
        Matcher mark = YAML_MARK.matcher(text);
        if (mark.matches()) {
          line = Integer.parseInt(mark.group(1));
          column = Integer.parseInt(mark.group(2));
        } else if (!text.isEmpty() && !Character.isWhitespace(text.charAt(0))) {
          phrases.add(text.strip());
        }
      }
      if (phrases.isEmpty() || line < 0) {
        return null;
      }
      // The last phrase is the problem; any before it say what the parser was doing.
      String problem = phrases.get(phrases.size() - 1);
      List<String> context = phrases.subList(0, phrases.size() - 1);
      return new SyntaxError(
          line, column, context.isEmpty() ? problem : problem + " " + String.join(" ", context));
    }
  }

  private static String firstLine(String text) {
    if (text == null) {
      return "no detail";
    }
    int newline = text.indexOf('\n');
    return (newline < 0 ? text : text.substring(0, newline)).strip();
  }
}
