package dev.lstm4j;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The facade's shared loading: one model per JVM for the same bytes and options, as the engine modules rely on. */
class Lstm4jTest {
    @Test
    void loadSharedGivesOneModelPerContentAndOptions() throws Exception {
        byte[] bytes = Files.readAllBytes(Fixture.named("basic_f32").model());
        LstmModel a = Lstm4j.loadShared(bytes, "model.safetensors");
        LstmModel b = Lstm4j.loadShared(bytes.clone(), "other-name.safetensors");
        assertSame(a, b, "the same bytes must give the same model");
        LstmModel reference = Lstm4j.loadShared(bytes, "model.safetensors", LoadOptions.defaults().withEngine(EngineChoice.REFERENCE));
        assertNotSame(a, reference, "other options must give another model");
        assertTrue(a.lstm().usesFastPath() && !reference.lstm().usesFastPath());
        Path file = Fixture.named("basic_f32").model();
        assertEquals(Lstm4j.load(file).lstm().config(), a.lstm().config());
    }

    @Test
    void versionComesFromTheManifestOrSaysDev() {
        String v = Lstm4j.version();
        assertTrue(v.equals("dev") || v.matches("\\d+\\.\\d+\\.\\d+.*"), v);
    }
}
