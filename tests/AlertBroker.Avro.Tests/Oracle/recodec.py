"""Rewrites Avro container files with another codec using Apache Avro's Python implementation.

The independent half of ContainerCodecTests: `recodec.py CODEC OUTDIR FILE...` reads every record of each FILE
(any codec the library reads) and writes them to OUTDIR/<file name> with CODEC and the file's own writer schema.
Apache Avro for Python 1.11 has no xz codec; "xz" here is the spec's (an .xz stream of the block, as the Java
implementation writes it), made with Python's lzma module, registered beside the library's own codecs.
"""
import io
import lzma
import os
import sys

import avro.codecs
import avro.datafile
import avro.io


class XzCodec(avro.codecs.Codec):
    @staticmethod
    def compress(data):
        compressed = lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64)
        return compressed, len(compressed)

    @staticmethod
    def decompress(readers_decoder):
        length = readers_decoder.read_long()
        return avro.io.BinaryDecoder(io.BytesIO(lzma.decompress(readers_decoder.read(length))))


avro.codecs.KNOWN_CODECS.setdefault("xz", XzCodec)


def main():
    codec, out_dir, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(out_dir, exist_ok=True)
    for path in files:
        with open(path, "rb") as f:
            reader = avro.datafile.DataFileReader(f, avro.io.DatumReader())
            schema = reader.datum_reader.writers_schema
            rows = list(reader)
        with open(os.path.join(out_dir, os.path.basename(path)), "wb") as out:
            writer = avro.datafile.DataFileWriter(out, avro.io.DatumWriter(), schema, codec=codec)
            for row in rows:
                writer.append(row)
            writer.close()
    print(len(files))


if __name__ == "__main__":
    main()
