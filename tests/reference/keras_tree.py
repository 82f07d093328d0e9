"""The tree of an HDF5 weights file, as text, and files written to such a tree (h5py, numpy).

  keras_tree.py dump FILE        prints every group, dataset (dtype, shape) and attribute (its
                                 string kind: vlen-utf8 as h5py writes a Python str, fixed-ascii
                                 as it writes bytes), one line each, sorted by path
  keras_tree.py write TREE FILE  writes FILE with TREE's structure (a dump, '#' lines ignored), the
                                 way Keras' own code does with h5py; float dataset k (in the
                                 tree's order) holds 100 * k + its flat index, integers hold k

The golden trees in tests/golden/weights/ are derived from Keras' saving code (cited in each);
tests/unit/test_keras_weights_tree.cpp compares cnnc's files with them and loads files written
from them.
"""
import sys

import h5py
import numpy as np


def attr_line(path, obj, name):
    aid = h5py.h5a.open(obj.id, name.encode())
    t = aid.get_type()
    shape = "scalar" if aid.shape == () else "(%s)" % ", ".join(str(d) for d in aid.shape)
    if isinstance(t, h5py.h5t.TypeStringID):
        kind = ("vlen-" if t.is_variable_str() else "fixed-") + ("utf8" if t.get_cset() == h5py.h5t.CSET_UTF8 else "ascii")
        v = obj.attrs[name]
        vals = [v] if aid.shape == () else list(v)
        vals = [x.decode() if isinstance(x, bytes) else str(x) for x in vals]
        return "%s @%s %s %s %s" % (path, name, kind, shape, vals)
    return "%s @%s %s %s" % (path, name, np.dtype(t.dtype).name, shape)


def dump(f):
    lines = []

    def visit(path, obj):
        p = "/" + path
        if isinstance(obj, h5py.Dataset):
            lines.append("%s dataset %s %s" % (p, obj.dtype.name, tuple(obj.shape)))
        else:
            lines.append("%s group" % p)
        for a in obj.attrs:
            lines.append(attr_line(p, obj, a))

    lines.append("/ group")
    for a in f.attrs:
        lines.append(attr_line("/", f, a))
    f.visititems(visit)
    return sorted(lines)


def write(tree, out):
    k = 0
    with h5py.File(out, "w") as f:
        for line in tree:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            path, rest = line.split(" ", 1)
            if rest.startswith("group"):
                f.require_group(path)
            elif rest.startswith("dataset"):
                _, dtype, shape = rest.split(" ", 2)
                shape = tuple(int(d) for d in shape.strip("()").split(",") if d.strip())
                n = int(np.prod(shape)) if shape else 1
                data = (np.full(n, k) if dtype.startswith("int") else 100 * k + np.arange(n)).astype(dtype).reshape(shape)
                f.create_dataset(path, data=data)
                k += 1
            else:  # an attribute: @name kind shape [values], or @name dtype shape (numbers: zeros)
                name, kind, shape, *vals = rest.split(" ", 3)
                obj = f.require_group(path) if path not in f else f[path]
                if not kind.startswith(("vlen-", "fixed-")):
                    dims = () if shape == "scalar" else tuple(int(d) for d in shape.strip("()").split(",") if d.strip())
                    obj.attrs[name[1:]] = np.zeros(dims, dtype=kind)
                    continue
                vals = eval(vals[0])
                # h5py 3: str -> vlen UTF-8, bytes -> vlen ASCII, numpy bytes_ ('S') -> fixed ASCII
                if kind == "vlen-utf8":
                    v = vals[0] if shape == "scalar" else vals
                elif kind == "vlen-ascii":
                    v = vals[0].encode() if shape == "scalar" else np.array([x.encode() for x in vals], dtype=h5py.string_dtype("ascii"))
                else:
                    v = np.bytes_(vals[0].encode()) if shape == "scalar" else np.array([x.encode() for x in vals])
                obj.attrs[name[1:]] = v


if __name__ == "__main__":
    if sys.argv[1] == "dump":
        with h5py.File(sys.argv[2], "r") as f:
            print("\n".join(dump(f)))
    else:
        with open(sys.argv[2]) as t:
            write(t.readlines(), sys.argv[3])
