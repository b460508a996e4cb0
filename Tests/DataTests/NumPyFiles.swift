import Foundation
import Support
import TestSupport
import XCTest

/// Real NumPy files for NumPyFormatTests, written by /usr/bin/python3 with numpy (which
/// `launch/install` installs) into a scratch directory.
enum NumPyFiles {
    /// Writes into `directory` the files of `script` (`good` or `bad`) and returns it.
    static func generate(_ script: String, in directory: String) throws -> String {
        try SystemPython.run(script, [directory])
        return directory
    }

    /// The whole file at `path`, as the parsers take it.
    @discardableResult
    static func withBytes<R>(of path: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try FileIO.readAll(path).withUnsafeBytes(body)
    }

    /// np.save / write_array of every dtype, shapes (N,), (N, D), (N, a, b), () and (0, 3), versions
    /// 1.0, 2.0, 3.0 and the one np.save picks; np.savez, np.savez_compressed and zip archives with
    /// ZIP64 records, ZIP64 local headers, data descriptors, other files, none. `manifest.json`
    /// says what numpy and Python's zipfile read in them: each .npy file's dtype, shape, data
    /// offset (where numpy's reader stops) and data (hex); each archive's members, in the order
    /// of its central directory, where their data begin after the local header and their arrays.
    static let good = #"""
        import io, json, os, struct, sys, zipfile
        import numpy as np
        from numpy.lib import format as fmt

        out = sys.argv[1]
        rng = np.random.default_rng(21)
        dtypes = {"float32": "<f4", "float64": "<f8", "uint8": "|u1", "int8": "|i1", "int16": "<i2", "int32": "<i4", "int64": "<i8"}
        manifest = {"npy": [], "npz": []}

        def path(name):
            return os.path.join(out, name)

        def values(descr, shape):
            dtype = np.dtype(descr)
            if dtype.kind == "f":
                return rng.standard_normal(shape).astype(dtype)
            info = np.iinfo(dtype)
            return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)

        def described(arr):
            return {"dtype": next(n for n, d in dtypes.items() if np.dtype(d) == arr.dtype), "shape": list(arr.shape),
                    "itemsize": arr.itemsize, "descr": arr.dtype.str, "data": arr.tobytes().hex()}

        # .npy: every dtype, shape and version; the data offset as numpy's own reader finds it.
        for name, descr in dtypes.items():
            for s, shape in enumerate([(5,), (4, 3), (2, 3, 4), (), (0, 3)]):
                for version in [None, (1, 0), (2, 0), (3, 0)]:
                    arr = values(descr, shape)
                    file = f"{name}-{s}-v{version[0] if version else 'auto'}.npy"
                    if version is None:
                        np.save(path(file), arr)
                    else:
                        with open(path(file), "wb") as f:
                            fmt.write_array(f, arr, version=version)
                    with open(path(file), "rb") as f:
                        found = fmt.read_magic(f)
                        assert version is None or found == version, (file, found)
                        shape_read, fortran, dtype_read = fmt._read_array_header(f, found)
                        offset = f.tell()
                    assert (shape_read, fortran, dtype_read) == (shape, False, np.dtype(descr)), file
                    assert np.array_equal(np.load(path(file)), arr), file
                    manifest["npy"].append(dict(file=file, version=found[0], dataOffset=offset, **described(arr)))

        # .npz: the members as Python's zipfile lists them; a member's data begin after its local header.
        def archive(file, arrays):
            raw = open(path(file), "rb").read()
            members = []
            with zipfile.ZipFile(path(file)) as zf:
                for info in zf.infolist():
                    start = info.header_offset
                    assert raw[start:start + 4] == b"PK\x03\x04"
                    name_length, extra_length = struct.unpack("<HH", raw[start + 26:start + 30])
                    start += 30 + name_length + extra_length
                    name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                    member = dict(name=name, offset=start, size=info.compress_size, stored=info.compress_type == 0)
                    if info.compress_type == 0:
                        assert raw[start:start + info.compress_size] == zf.read(info)
                    if name in arrays:
                        assert np.array_equal(np.load(io.BytesIO(zf.read(info))), arrays[name])
                        member["array"] = described(arrays[name])
                    members.append(member)
            manifest["npz"].append(dict(file=file, members=members))

        xy = {"x": values("<f4", (6, 4)), "y": values("<i8", (6,))}
        np.savez(path("savez-xy.npz"), **xy)
        archive("savez-xy.npz", xy)
        every = {name: values(descr, [(7,), (7, 2), (7, 2, 3)][i % 3]) for i, (name, descr) in enumerate(dtypes.items())}
        np.savez(path("savez-every-dtype.npz"), **every)
        archive("savez-every-dtype.npz", every)
        np.savez(path("savez-positional.npz"), xy["x"], xy["y"])
        archive("savez-positional.npz", {"arr_0": xy["x"], "arr_1": xy["y"]})
        np.savez_compressed(path("savez-compressed.npz"), **xy)
        archive("savez-compressed.npz", {})
        # ZIP64 end records and central directory fields: zipfile writes them past ZIP64_LIMIT.
        limit = zipfile.ZIP64_LIMIT
        zipfile.ZIP64_LIMIT = 8
        np.savez(path("zip64-records.npz"), **xy)
        zipfile.ZIP64_LIMIT = limit
        archive("zip64-records.npz", xy)
        raw = open(path("zip64-records.npz"), "rb").read()
        assert b"PK\x06\x06" in raw and b"PK\x06\x07" in raw
        # ZIP64 local headers (force_zip64, as np.savez writes them) and an archive comment.
        with zipfile.ZipFile(path("zip64-local.npz"), "w", allowZip64=True) as zf:
            for name, arr in xy.items():
                with zf.open(name + ".npy", "w", force_zip64=True) as f:
                    fmt.write_array(f, arr)
            zf.comment = b"written by NumPyFormatTests"
        archive("zip64-local.npz", xy)
        # Streamed (not seekable): sizes in data descriptors after the data, zeros in the local headers.
        class Stream(io.RawIOBase):
            def __init__(self): self.data = bytearray()
            def writable(self): return True
            def write(self, b): self.data += b; return len(b)
        stream = Stream()
        with zipfile.ZipFile(stream, "w") as zf:
            for name, arr in xy.items():
                with zf.open(name + ".npy", "w") as f:
                    fmt.write_array(f, arr)
        open(path("streamed.npz"), "wb").write(bytes(stream.data))
        archive("streamed.npz", xy)
        # Other files are listed too; a zip without x; an empty zip.
        with zipfile.ZipFile(path("with-readme.npz"), "w") as zf:
            zf.writestr("readme.txt", "two arrays\n")
            zf.writestr("y.npy", (lambda b: (fmt.write_array(b, xy["y"]), b.getvalue())[1])(io.BytesIO()))
        archive("with-readme.npz", {"y": xy["y"]})
        zipfile.ZipFile(path("empty.npz"), "w").close()
        archive("empty.npz", {})

        json.dump(manifest, open(path("manifest.json"), "w"))
        """#

    /// Bad files, each named for what is wrong with it (truncated and patched copies of np.save
    /// and np.savez output, unsupported dtypes, headers written by hand), and `ok-*.npy`: headers
    /// NumPy reads although np.save never writes them so, each float32 (4, 3) or 12 uint8.
    static let bad = #"""
        import io, os, struct, sys, zipfile
        import warnings
        import numpy as np
        from numpy.lib import format as fmt

        out = sys.argv[1]

        def write(name, data):
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)

        def npy(arr, version=None):
            f = io.BytesIO()
            fmt.write_array(f, arr, version=version, allow_pickle=True)
            return f.getvalue()

        def crafted(header, data, version=1):
            # A .npy file with `header` (padded as numpy pads) whatever it says, then `data`.
            length = "<H" if version == 1 else "<I"
            preamble = fmt.MAGIC_PREFIX + bytes([version, 0])
            text = header.encode("utf-8") + b" "
            pad = -(len(preamble) + struct.calcsize(length) + len(text) + 1) % 64
            text += b" " * pad + b"\n"
            return preamble + struct.pack(length, len(text)) + text + data

        grid = np.arange(12, dtype="<f4").reshape(4, 3)
        good = npy(grid)
        # .npy
        write("not-npy.npy", b"hello, world\n")
        write("empty.npy", b"")
        for cut in [3, 7, 9, 30, 128 + 5, len(good) - 1]:
            write(f"cut-{cut}.npy", good[:cut])
        write("cut-v2-11.npy", npy(grid, (2, 0))[:11])
        write("trailing.npy", good + b"\0\0\0")
        write("version-4.npy", good[:6] + b"\x04\x00" + good[8:])
        write("fortran.npy", npy(np.asfortranarray(grid)))
        write("bigendian-f4.npy", npy(grid.astype(">f4")))
        write("bigendian-i8.npy", npy(np.arange(3, dtype=">i8")))
        write("object.npy", npy(np.array([{}, 1], dtype=object)))
        write("unicode.npy", npy(np.array(["cat", "dog"])))
        write("bytes.npy", npy(np.array([b"cat", b"dog"])))
        write("bool.npy", npy(np.array([True, False])))
        write("float16.npy", npy(np.arange(3, dtype="<f2")))
        write("complex.npy", npy(np.arange(3, dtype="<c8")))
        write("uint16.npy", npy(np.arange(3, dtype="<u2")))
        write("datetime.npy", npy(np.array(["2020-01-01"], dtype="datetime64[D]")))
        write("structured.npy", npy(np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")])))
        data = grid.tobytes()
        write("shape-too-big.npy", crafted("{'descr': '<f4', 'fortran_order': False, 'shape': (5, 3), }", data))
        write("shape-too-small.npy", crafted("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data))
        write("list-header.npy", crafted("[1, 2]", data))
        write("missing-key.npy", crafted("{'descr': '<f4', 'shape': (4, 3), }", data))
        write("unknown-key.npy", crafted("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), 'order': 'C'}", data))
        write("duplicate-key.npy", crafted("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), 'shape': (4, 3)}", data))
        write("negative-shape.npy", crafted("{'descr': '<f4', 'fortran_order': False, 'shape': (-4, -3), }", data))
        write("float-shape.npy", crafted("{'descr': '<f4', 'fortran_order': False, 'shape': (12.0,), }", data))
        write("list-shape.npy", crafted("{'descr': '<f4', 'fortran_order': False, 'shape': [4, 3], }", data))
        write("many-dims.npy", crafted("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % ("1, " * 33), data))
        write("overflow-shape.npy", crafted("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", data))
        write("huge-size.npy", crafted("{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % 10**30, data))
        write("unterminated.npy", crafted("{'descr': '<f4", data))
        write("after-dict.npy", crafted("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), } x", data))
        write("fortran-not-bool.npy", crafted("{'descr': '<f4', 'fortran_order': 0, 'shape': (4, 3), }", data))
        write("deep.npy", crafted("{'descr': '<f4', 'fortran_order': False, 'shape': %s3%s, }" % ("(" * 40, ")" * 40), data))
        write("long-v3.npy", crafted("{'descr': '<f4', 'fortran_order': False, 'shape': (4L, 3L), }", data, version=3))
        # Headers NumPy reads though np.save does not write them so (each: float32 (4, 3), or 12 bytes).
        write("ok-python2-long.npy", crafted("{'descr': '<f4', 'fortran_order': False, 'shape': (4L, 3L), }", data))
        write("ok-reordered.npy", crafted('{"shape":(4,3),\n\t"fortran_order" :False , "descr":"<f4"}', data, version=2))
        write("ok-native.npy", crafted("{'descr': '=f4', 'fortran_order': False, 'shape': ((4), 3), }", data, version=3))
        write("ok-big-endian-bytes.npy", crafted("{'descr': '>u1', 'fortran_order': False, 'shape': (4, 3), }", bytes(range(12))))
        for name in ["ok-python2-long.npy", "ok-reordered.npy", "ok-native.npy", "ok-big-endian-bytes.npy"]:
            assert np.load(os.path.join(out, name)).shape == (4, 3), name
        header_lie = bytearray(good)
        header_lie[8:10] = struct.pack("<H", len(good))
        write("header-length.npy", bytes(header_lie))

        # .npz
        xy = {"x": grid, "y": np.array([0, 1, 1, 0], dtype="<i8")}
        buffer = io.BytesIO()
        np.savez(buffer, **xy)
        npz = buffer.getvalue()
        end = npz.rindex(b"PK\x05\x06")
        entries, directory_size, directory = struct.unpack("<HII", npz[end + 10:end + 20])

        def patched(data, offset, fmt_, value):
            b = bytearray(data)
            struct.pack_into(fmt_, b, offset, value)
            return bytes(b)

        write("text.npz", b"x,y\n1,2\n")
        write("npy.npz", good)
        write("cut-half.npz", npz[:len(npz) // 2])
        write("cut-last.npz", npz[:-1])
        write("directory-offset.npz", patched(npz, end + 16, "<I", directory + 1))
        write("entries.npz", patched(patched(npz, end + 8, "<H", 3), end + 10, "<H", 3))
        write("one-entry.npz", patched(patched(npz, end + 8, "<H", 1), end + 10, "<H", 1))
        write("multi-disk.npz", patched(npz, end + 4, "<H", 1))
        write("member-size.npz", patched(patched(npz, directory + 20, "<I", 100000), directory + 24, "<I", 100000))
        write("local-offset.npz", patched(npz, directory + 42, "<I", 0xFFFFFF00))
        write("no-zip64-extra.npz", patched(patched(npz, directory + 20, "<I", 0xFFFFFFFF), directory + 24, "<I", 0xFFFFFFFF))
        write("encrypted.npz", patched(npz, directory + 8, "<H", 1))
        write("local-name.npz", patched(npz, 30, "<B", ord("q")))
        write("signature.npz", patched(npz, directory, "<I", 0x12345678))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, names in [("duplicate.npz", ["x.npy", "x.npy"]), ("x-and-x-npy.npz", ["x", "x.npy"])]:
                with zipfile.ZipFile(os.path.join(out, name), "w") as zf:
                    for member in names:
                        zf.writestr(member, good)
        limit = zipfile.ZIP64_LIMIT
        zipfile.ZIP64_LIMIT = 8
        buffer = io.BytesIO()
        np.savez(buffer, **xy)
        zipfile.ZIP64_LIMIT = limit
        zip64 = buffer.getvalue()
        locator = zip64.rindex(b"PK\x06\x07")
        write("zip64-locator.npz", patched(zip64, locator + 8, "<Q", 3))
        """#
}
