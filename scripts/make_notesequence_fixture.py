#!/usr/bin/python3
"""Builds the NoteSequence wire-compatibility fixture used by test/notesequence_proto.test.ts.

Regenerate (from the repository root; needs Debian's protobuf-compiler and python3-protobuf, so
run Debian's python, not a pyenv/venv one):

    /usr/bin/python3 scripts/make_notesequence_fixture.py

It compiles test/fixtures/notesequence/music.proto with `protoc --python_out` into a temporary
directory, builds a handful of NoteSequences with Google's protobuf library, serializes each with
SerializeToString(), frames them as TFRecords with this file's own CRC-32C and framing code
(independent of src/io/crc32c.ts and src/io/tfrecord.ts), and writes:

    test/fixtures/notesequence/sequences.tfrecord   the framed records, in order
    test/fixtures/notesequence/sequences.json       the same sequences, one entry per record, as
                                                    json_format.MessageToDict (camelCase names,
                                                    enums as integers, int64 as strings, default
                                                    values omitted)

The output is deterministic: running it twice gives the same bytes.
"""

import importlib
import json
import os
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE_DIR = os.path.join(ROOT, "test", "fixtures", "notesequence")
PROTO = os.path.join(FIXTURE_DIR, "music.proto")


# --- CRC-32C and TFRecord framing (spec §3.4), written out plainly -----------------------------

CRC32C_POLY_REFLECTED = 0x82F63B78


def crc32c(data: bytes) -> int:
    """Bitwise CRC-32C (Castagnoli): reflected, init 0xFFFFFFFF, final xor 0xFFFFFFFF."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            if crc & 1:
                crc = (crc >> 1) ^ CRC32C_POLY_REFLECTED
            else:
                crc >>= 1
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame_record(data: bytes) -> bytes:
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


# --- the sequences ------------------------------------------------------------------------------


def load_music_pb2(tmp: str):
    subprocess.run(
        ["protoc", f"--proto_path={FIXTURE_DIR}", f"--python_out={tmp}", PROTO],
        check=True,
    )
    sys.path.insert(0, tmp)
    return importlib.import_module("music_pb2")


def full_sequence(pb):
    """Every field of NoteSequence and of each sub-message set to a non-default value."""
    NS = pb.NoteSequence
    ns = NS()
    ns.id = "/id/midi/bach/bwv269-übung"
    ns.filename = "chorales/Bach — «Aus meines Herzens Grunde» 🎹.mid"
    ns.collection_name = "bach_chorales_ナ"
    ns.ticks_per_quarter = 480
    ns.time_signatures.add(time=0.0, numerator=3, denominator=4)
    ns.time_signatures.add(time=7.5, numerator=6, denominator=8)
    ns.key_signatures.add(time=0.0, key=NS.KeySignature.G, mode=NS.KeySignature.MAJOR)
    ns.key_signatures.add(time=2.25, key=NS.KeySignature.B_FLAT, mode=NS.KeySignature.LOCRIAN)
    ns.tempos.add(time=0.0, qpm=120.0)
    ns.tempos.add(time=1.0 / 3.0, qpm=97.123456789)
    ns.notes.add(
        pitch=60,
        velocity=100,
        start_time=0.0,
        end_time=0.5,
        numerator=1,
        denominator=4,
        instrument=0,
        program=0,
        is_drum=False,
        part=0,
        pitch_name=NS.C,
        voice=0,
        quantized_start_step=0,
        quantized_end_step=2,
    )
    ns.notes.add(
        pitch=38,
        velocity=127,
        start_time=0.1,
        end_time=0.30000000000000004,
        numerator=3,
        denominator=16,
        instrument=9,
        program=127,
        is_drum=True,
        part=2,
        pitch_name=NS.D_SHARP_SHARP,
        voice=3,
        quantized_start_step=1,
        quantized_end_step=3,
    )
    ns.notes.add(pitch=127, velocity=1, start_time=1.0 / 3.0, end_time=2.0 / 3.0)
    ns.total_time = 12.345678901234567
    ns.pitch_bends.add(time=0.25, bend=-8192, instrument=1, program=5, is_drum=False)
    ns.pitch_bends.add(time=0.5, bend=8191, instrument=2, program=6, is_drum=True)
    ns.pitch_bends.add(time=0.75, bend=-1)
    ns.control_changes.add(
        time=0.125,
        quantized_step=1,
        control_number=64,
        control_value=127,
        instrument=1,
        program=2,
        is_drum=True,
    )
    ns.control_changes.add(time=3.0, quantized_step=24, control_number=7, control_value=0)
    ns.part_infos.add(part=0, name="Soprano")
    ns.part_infos.add(part=1, name="Alt (Ω)")
    ns.source_info.source_type = NS.SourceInfo.SCORE_BASED
    ns.source_info.encoding_type = NS.SourceInfo.MUSIC_XML
    ns.source_info.parser = NS.SourceInfo.MAGENTA_MUSIC_XML
    ns.text_annotations.add(
        time=0.5,
        quantized_step=2,
        text="C#m7b5",
        annotation_type=NS.TextAnnotation.CHORD_SYMBOL,
    )
    ns.text_annotations.add(time=1.0, quantized_step=4, text="𝄞 beat", annotation_type=NS.TextAnnotation.BEAT)
    ns.section_annotations.add(time=0.0, section_id=1)
    ns.section_annotations.add(time=4.5, section_id=2)
    group = ns.section_groups.add(num_times=2)
    group.sections.add(section_id=1)
    inner = group.sections.add().section_group
    inner.num_times = 3
    inner.sections.add(section_id=2)
    inner.sections.add(section_id=0)  # oneof member set to its default: still on the wire
    ns.section_groups.add(num_times=1).sections.add(section_id=2)
    ns.quantization_info.steps_per_quarter = 4
    ns.total_quantized_steps = 50
    ns.subsequence_info.start_time_offset = 1.5
    ns.subsequence_info.end_time_offset = 0.0625
    ns.reference_number = 7
    ns.sequence_metadata.title = "Aus meines Herzens Grunde"
    ns.sequence_metadata.artist = "J. S. Bach"
    ns.sequence_metadata.genre.extend(["Baroque", "Chorale", "Kirchenlied"])
    ns.sequence_metadata.composers.extend(["Johann Sebastian Bach", "Иоганн Себастьян Бах"])
    ns.instrument_infos.add(instrument=0, name="Organ")
    ns.instrument_infos.add(instrument=9, name="Drums 🥁")
    ns.fingering = 3
    return ns


def quantized_sequence(pb):
    """A typical quantized polyphonic sequence (steps_per_quarter=4), as the pipeline makes them."""
    NS = pb.NoteSequence
    ns = NS()
    ns.id = "quantized-1"
    ns.ticks_per_quarter = 220
    ns.time_signatures.add(numerator=4, denominator=4)
    ns.key_signatures.add(key=NS.KeySignature.D, mode=NS.KeySignature.MINOR)
    ns.tempos.add(qpm=60.0)
    for i, chord in enumerate([(62, 65, 69), (60, 64, 67, 72), (59, 62, 67)]):
        for pitch in chord:
            ns.notes.add(
                pitch=pitch,
                velocity=80,
                start_time=i * 1.0,
                end_time=i * 1.0 + 1.0,
                quantized_start_step=i * 4,
                quantized_end_step=i * 4 + 4,
            )
    ns.total_time = 3.0
    ns.total_quantized_steps = 12
    ns.quantization_info.steps_per_quarter = 4
    ns.source_info.source_type = NS.SourceInfo.PERFORMANCE_BASED
    ns.source_info.encoding_type = NS.SourceInfo.MIDI
    ns.source_info.parser = NS.SourceInfo.PRETTY_MIDI
    return ns


def edge_sequence(pb):
    """Extreme values: int32/int64 limits, negative varints, -0.0, subnormals, odd strings."""
    NS = pb.NoteSequence
    ns = NS()
    ns.id = "edge \x00 nul, tab\t, quote \", backslash \\, ü, 中文, 🎼"
    ns.collection_name = "x" * 200  # a length needing a 2-byte varint
    ns.ticks_per_quarter = 2147483647
    ns.fingering = -2147483648
    ns.reference_number = -5  # negative int64: a 10-byte varint
    ns.total_time = 1e300
    ns.total_quantized_steps = 9007199254740991  # 2^53 - 1, the largest exact JS integer
    ns.tempos.add(time=5e-324, qpm=1.7976931348623157e308)  # smallest subnormal, largest double
    ns.time_signatures.add(time=-0.0, numerator=-3, denominator=0)  # -0.0 is not the default
    ns.key_signatures.add(time=-2.5, key=NS.KeySignature.B, mode=99)  # unknown enum value kept
    ns.notes.add(
        pitch=-1,
        velocity=-2147483648,
        start_time=-0.0,
        end_time=2.5e-7,
        quantized_start_step=-1,
        quantized_end_step=4294967296,
        pitch_name=NS.F_FLAT_FLAT,
    )
    ns.notes.add()  # an all-default sub-message: an empty record inside the sequence
    ns.pitch_bends.add(time=0.0, bend=-8192)
    ns.control_changes.add(quantized_step=-9007199254740991, control_number=127)
    ns.text_annotations.add(text="", annotation_type=42, quantized_step=1 << 40)
    ns.instrument_infos.add(instrument=-7, name="")
    ns.part_infos.add()
    ns.quantization_info.steps_per_second = 100
    ns.subsequence_info.start_time_offset = -0.0
    ns.sequence_metadata.genre.append("")  # an empty string element of a repeated string
    ns.sequence_metadata.composers.append("Anonymous")
    ns.section_groups.add()  # empty group
    ns.section_annotations.add(time=0.0, section_id=-1)
    return ns


def empty_sequence(pb):
    return pb.NoteSequence()


def main() -> None:
    # An optional argument writes the files to another folder (the test suite regenerates the fixture
    # there and compares it with the committed one).
    out_dir = sys.argv[1] if len(sys.argv) > 1 else FIXTURE_DIR
    assert crc32c(b"123456789") == 0xE3069283, hex(crc32c(b"123456789"))
    assert crc32c(b"") == 0
    from google.protobuf import json_format

    with tempfile.TemporaryDirectory() as tmp:
        pb = load_music_pb2(tmp)
        sequences = [
            ("full", full_sequence(pb)),
            ("empty", empty_sequence(pb)),
            ("quantized", quantized_sequence(pb)),
            ("edge", edge_sequence(pb)),
        ]
        records = []
        entries = []
        for name, ns in sequences:
            data = ns.SerializeToString()
            # Parsing back must give the same message (a check on the fixture itself).
            again = pb.NoteSequence()
            again.ParseFromString(data)
            assert again == ns, name
            records.append(frame_record(data))
            entries.append(
                {
                    "name": name,
                    "byteLength": len(data),
                    "sequence": json_format.MessageToDict(
                        ns,
                        preserving_proto_field_name=False,
                        use_integers_for_enums=True,
                    ),
                }
            )

    with open(os.path.join(out_dir, "sequences.tfrecord"), "wb") as f:
        f.write(b"".join(records))
    with open(os.path.join(out_dir, "sequences.json"), "w", encoding="utf-8") as f:
        json.dump(entries, f, ensure_ascii=False, indent=2, allow_nan=False)
        f.write("\n")
    total = sum(len(r) for r in records)
    print(f"wrote {len(records)} records ({total} bytes) to {out_dir}")


if __name__ == "__main__":
    main()
