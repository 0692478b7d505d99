package dev.edgesync.watermark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class WatermarkFileNamesTest {

  @Test
  void plainIdsAreUsedAsTheyAre() {
    assertEquals("site-b.json", WatermarkFileNames.fileNameFor("site-b"));
    assertEquals("Site_B.2.json", WatermarkFileNames.fileNameFor("Site_B.2"));
    assertEquals("a..json", WatermarkFileNames.fileNameFor("a."));
  }

  @Test
  void otherIdsAreBase32Encoded() {
    // "a/b" is 0x61 0x2f 0x62 in UTF-8, which is "mexwe" in RFC 4648 base32 (lower case).
    assertEquals("~mexwe.json", WatermarkFileNames.fileNameFor("a/b"));
    assertEquals("~fyxa.json", WatermarkFileNames.fileNameFor(".."));
  }

  @Test
  void fileNamesMapBackToTheirPeer() {
    for (String id : new String[] {"site-b", "a/b", "..", "站点", "a\u0000b", "x".repeat(100)}) {
      assertEquals(
          Optional.of(id), WatermarkFileNames.peerIdOf(WatermarkFileNames.fileNameFor(id)), id);
    }
    String hashedName = WatermarkFileNames.fileNameFor("y".repeat(101));
    assertEquals(Optional.empty(), WatermarkFileNames.peerIdOf(hashedName));
    assertEquals(Optional.empty(), WatermarkFileNames.peerIdOf("~NOT-BASE32.json"));
  }

  @Test
  void tempFilesAreNeverWatermarkFiles() {
    assertTrue(WatermarkFileNames.isTempFile(".site-b.json.123.tmp"));
    assertFalse(WatermarkFileNames.isWatermarkFile(".site-b.json.123.tmp"));
    assertFalse(WatermarkFileNames.isWatermarkFile(".json"));
    assertTrue(WatermarkFileNames.isWatermarkFile("site-b.json"));
    assertFalse(WatermarkFileNames.isWatermarkFile("notes.txt"));
  }
}
