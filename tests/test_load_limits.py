"""A file from anywhere: skdense.load and load_network within limits, the format
decided from the bytes, one error type naming the file and the entry, loaded
attributes checked against the network, and save honouring the umask.  Each case
was found by trying it as an attacker or a careless user would (issue 20)."""

import io
import json
import os
import tempfile
import tracemalloc
import warnings
import zipfile

import h5py
import numpy as np
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

import skdense
from skdense import DenseClassifier, persistence
from skdense.persistence import LoadLimits, MalformedFileError, UntrustedContentError

SMALL = dict(hidden_layer_sizes=(8,), epochs=2, random_state=0, n_ensemble=2)
MiB = 1024**2


@pytest.fixture(scope="module")
def fitted(iris):
    X, Xt, y, _ = iris
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    est = DenseClassifier(**SMALL).fit(X, labels)
    pipe = Pipeline([("scale", StandardScaler()), ("net", DenseClassifier(**SMALL))])
    return est, pipe.fit(X, labels), Xt


@pytest.fixture
def saved(fitted, tmp_path):
    path = tmp_path / "est.skdense"
    persistence.save(fitted[0], path)
    return path


@pytest.fixture
def saved_pipe(fitted, tmp_path):
    path = tmp_path / "pipe.skdense"
    persistence.save(fitted[1], path)
    return path


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The temporary folder load() may use, to see what it leaves there."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _members(path_or_bytes):
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with zipfile.ZipFile(source) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _zip(items, compression=zipfile.ZIP_DEFLATED):
    """A zip of (name, bytes) items, in order; a name may repeat."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", compression) as zf:
        warnings.simplefilter("ignore")  # zipfile warns of a duplicate name: it is the point
        for name, data in items:
            zf.writestr(name, data)
    return buffer.getvalue()


def _rewrite(path, member, data):
    members = _members(path)
    members[member] = data
    path.write_bytes(_zip(members.items()))


def _rewrite_record(path, change):
    record = json.loads(_members(path)["estimators/0.json"])
    change(record)
    _rewrite(path, "estimators/0.json", json.dumps(record))


def _rewrite_network(path, change):
    inner = _members(_members(path)["estimators/0.keras"])
    change(inner)
    _rewrite(path, "estimators/0.keras", _zip(inner.items()))


def _array(dtype, shape, data):
    return {"__ndarray__": {"dtype": dtype, "shape": shape, "data": data}}


def _peak_bytes(call):
    tracemalloc.start()
    try:
        call()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


# -- memory and disk: bounded before anything is allocated or extracted -------


def test_a_wide_string_dtype_allocates_nothing(saved):
    # 84 bytes of JSON that NumPy would make 1 GB of
    wide = _array("<U50000000", [5], ["", "", "", "", ""])
    _rewrite_record(saved, lambda r: r["fitted"]["attributes"].update(classes_=wide))
    with pytest.raises(MalformedFileError, match=r"est\.skdense: estimators/0\.json.*<U50000000"):
        persistence.load(saved)
    peak = _peak_bytes(lambda: pytest.raises(MalformedFileError, persistence.load, saved))
    assert peak < 50 * MiB


def test_an_array_over_max_array_bytes_refused(saved):
    _rewrite_record(saved, lambda r: r["fitted"]["attributes"].update(
        history_=_array("<f8", [2000], [0.5] * 2000)))
    with pytest.raises(MalformedFileError, match="max_array_bytes"):
        persistence.load(saved, limits=LoadLimits(max_array_bytes=8000))
    persistence.load(saved, limits=LoadLimits(max_array_bytes=16000))  # the array fits


def test_zip_bomb_refused_before_extraction(saved, private_tmp):
    bomb = b"\0" * (50 * MiB)  # about 50 KB deflated
    _rewrite(saved, "estimators/0.keras", bomb)
    assert saved.stat().st_size < 1 * MiB
    with pytest.raises(MalformedFileError,
                       match=r"est\.skdense: estimators/0\.keras.*max_compression_ratio"):
        persistence.load(saved)
    peak = _peak_bytes(lambda: pytest.raises(MalformedFileError, persistence.load, saved))
    assert peak < 10 * MiB
    assert list(private_tmp.iterdir()) == []


def test_padded_network_config_refused_by_its_size(saved):
    def pad(inner):
        inner["config.json"] = inner["config.json"] + b" " * (2 * MiB)

    _rewrite_network(saved, pad)
    with pytest.raises(MalformedFileError, match=r"estimators/0\.keras: config\.json.*max_json_bytes"):
        persistence.load(saved, limits=LoadLimits(max_json_bytes=MiB, max_compression_ratio=10**6))
    with pytest.raises(MalformedFileError, match="max_compression_ratio"):
        persistence.load(saved)  # by default, 2 MB of spaces is a bomb first


def test_assets_in_a_network_refused_and_nothing_left_on_disk(saved, private_tmp):
    def add_assets(inner):
        inner["assets/x"] = os.urandom(2 * MiB)
        inner["assets/x/y"] = b"y"

    _rewrite_network(saved, add_assets)
    with pytest.raises(UntrustedContentError, match=r"estimators/0\.keras holds \['assets/x'"):
        persistence.load(saved)
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize("limit, match", [
    (dict(max_entry_bytes=10_000), r"estimators/0\.keras holds [\d,]+ bytes.*max_entry_bytes"),
    (dict(max_total_bytes=20_000), "max_total_bytes"),
    (dict(max_entries=2), r"holds 3 entries.*max_entries"),
    (dict(max_json_depth=3), r"estimators/0\.json: its JSON nests \d+ deep.*max_json_depth"),
])
def test_limits_are_the_callers(saved, fitted, limit, match):
    with pytest.raises(MalformedFileError, match=match):
        persistence.load(saved, limits=LoadLimits(**limit))
    assert persistence.load(saved, limits=LoadLimits()).predict(fitted[2]).shape == (len(fitted[2]),)


def test_limits_are_validated():
    with pytest.raises(InvalidParameterError, match="max_entries"):
        LoadLimits(max_entries=0)
    with pytest.raises(TypeError, match="LoadLimits"):
        persistence.load("x.skdense", limits={"max_entries": 3})


# -- the format is decided from the bytes --------------------------------------


def _hdf5_bytes():
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f["model_weights/x"] = np.zeros(3)
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential"})
    return buffer.getvalue()


def test_hdf5_with_a_zip_appended_refused(fitted, tmp_path):
    est = fitted[0]
    network = tmp_path / "net.keras"
    est.model_.save(network)
    polyglot = tmp_path / "model.h5"  # Keras would load this as HDF5, not the zip checked
    polyglot.write_bytes(_hdf5_bytes() + network.read_bytes())
    with pytest.raises(MalformedFileError, match=r"model\.h5 is not a Keras .keras file.*HDF5"):
        persistence.load_network(polyglot)
    trailing = tmp_path / "trailing.keras"
    trailing.write_bytes(network.read_bytes() + b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(MalformedFileError, match="bytes follow the zip archive"):
        persistence.load_network(trailing)
    assert persistence.load_network(network).count_params() == est.model_.count_params()


def test_polyglot_network_entry_refused(saved):
    _rewrite(saved, "estimators/0.keras", _hdf5_bytes() + _members(saved)["estimators/0.keras"])
    with pytest.raises(MalformedFileError, match=r"estimators/0\.keras is not a Keras .keras file"):
        persistence.load(saved)


def _replace_layer(inner, class_name, config=None, module="keras.layers"):
    config_json = json.loads(inner["config.json"])
    for layer in config_json["config"]["layers"]:
        if layer["class_name"] == "Dropout":
            layer.update(class_name=class_name, module=module, registered_name=None)
            layer["config"].update(config or {})
            break
    else:
        raise AssertionError("no Dropout layer")
    inner["config.json"] = json.dumps(config_json).encode()


@pytest.mark.parametrize("class_name, config", [
    ("TorchModuleWrapper", {"module": "gASV"}),
    ("StringLookup", {"vocabulary": "/etc/passwd"}),
    ("TextVectorization", {"vocabulary": "/etc/passwd"}),
])
def test_keras_layers_skdense_does_not_build_refused(saved, class_name, config):
    _rewrite_network(saved, lambda inner: _replace_layer(inner, class_name, config))
    with pytest.raises(UntrustedContentError,
                       match=rf"keras\.layers\.{class_name}.*trusted=\['keras\.layers\.{class_name}'\]"):
        persistence.load(saved)


def test_a_trusted_keras_layer_loads(tmp_path):
    keras = pytest.importorskip("keras")
    inputs = keras.Input((4,))
    outputs = keras.layers.Dense(2)(keras.layers.BatchNormalization()(inputs))
    path = tmp_path / "bn.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(UntrustedContentError, match=r"keras\.layers\.BatchNormalization"):
        persistence.load_network(path)
    network = persistence.load_network(path, trusted=["keras.layers.BatchNormalization"])
    assert [type(layer).__name__ for layer in network.layers][1] == "BatchNormalization"


def _weights_with(add):
    def change(inner):
        buffer = io.BytesIO(inner["model.weights.h5"])
        with h5py.File(buffer, "a") as f:
            add(f)
        inner["model.weights.h5"] = buffer.getvalue()

    return change


def test_external_dataset_in_the_weights_refused(saved):
    def external(f):
        f.create_dataset("layers/evil", shape=(4,), dtype="<f4",
                         external=[("/etc/hostname", 0, 16)])

    _rewrite_network(saved, _weights_with(external))
    with pytest.raises(UntrustedContentError,
                       match=r"model\.weights\.h5: the dataset /layers/evil reads its values from another file"):
        persistence.load(saved)


def test_link_to_another_file_in_the_weights_refused(saved):
    def link(f):
        f["layers/evil"] = h5py.ExternalLink("/etc/other.h5", "/")

    _rewrite_network(saved, _weights_with(link))
    with pytest.raises(UntrustedContentError, match=r"/layers/evil is a link to another file"):
        persistence.load(saved)


def test_duplicate_entry_names_refused(saved):
    members = _members(saved)
    other = json.loads(members["estimators/0.json"])
    other["params"]["epochs"] = 99
    items = list(members.items()) + [("estimators/0.json", json.dumps(other).encode())]
    saved.write_bytes(_zip(items))
    with pytest.raises(MalformedFileError, match=r"entries \['estimators/0\.json'\] more than once"):
        persistence.load(saved)


def test_other_compression_methods_and_encryption_refused(saved):
    # zipfile reads LZMA; skdense never writes it, and an unknown method or an
    # encrypted entry must be named, not read (zipfile's NotImplementedError).
    saved.write_bytes(_zip(_members(saved).items(), compression=zipfile.ZIP_LZMA))
    with pytest.raises(MalformedFileError, match=r"uses compression method 14; skdense files"):
        persistence.load(saved)
    data = bytearray(_zip(_members(saved).items()))
    header = data.index(b"PK\x01\x02")  # the first central-directory entry
    data[header + 8] |= 0x1  # its general-purpose flag: encrypted
    saved.write_bytes(bytes(data))
    with pytest.raises(MalformedFileError, match=r"is encrypted"):
        persistence.load(saved)


# -- every malformed file: one error naming the file and the entry -------------


def _nested(depth):
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("case, error, match", [
    ("deep-json", MalformedFileError, "max_json_depth"),
    ("overflow", MalformedFileError, r"do not fit its dtype int64"),
    ("dtype-i16", UntrustedContentError, r"dtype 'i16' is not one skdense stores"),
    ("negative-shape", MalformedFileError, r"shape must be a list of non-negative integers"),
    ("string-in-floats", MalformedFileError, r"holds a value that is not a number"),
    ("not-a-record", MalformedFileError, r"not an estimator record"),
])
def test_malformed_record_named(saved, case, error, match):
    member = "estimators/0.json"
    if case == "deep-json":
        _rewrite(saved, member, _nested(100_000).encode())
    else:
        def change(record):
            attributes = record["fitted"]["attributes"]
            if case == "overflow":
                attributes["n_iter_"] = _array("<i8", [], [10**30])
            elif case == "dtype-i16":
                attributes["n_iter_"] = _array("i16", [], [1])
            elif case == "negative-shape":
                attributes["history_"] = _array("<f8", [-1, 2], [1.0, 2.0])
            elif case == "string-in-floats":
                attributes["history_"] = _array("<f8", [2], [1.0, "NaN"])
            else:
                record.pop("params")
        _rewrite_record(saved, change)
    with pytest.raises(error, match=match) as info:
        persistence.load(saved)
    assert str(info.value).startswith(f"{saved}: {member}")


def _corrupt_deflate(saved, member):
    """Flip bytes inside a deflated entry's data (its header stays intact)."""
    data = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as zf:
        info = zf.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 10, start + 40):
        data[i] ^= 0xFF
    saved.write_bytes(bytes(data))


def test_damaged_zip_data_named(saved):
    _corrupt_deflate(saved, "estimators/0.json")
    with pytest.raises(MalformedFileError, match=rf"{saved}: estimators/0\.json: it is damaged"):
        persistence.load(saved)


def test_bad_crc_named(saved):
    members = _members(saved)
    saved.write_bytes(_zip(members.items(), compression=zipfile.ZIP_STORED))
    data = bytearray(saved.read_bytes())
    at = data.find(b'"n_features_in_"')
    data[at + 1] = ord("N")  # the same length: only the CRC can tell
    saved.write_bytes(bytes(data))
    with pytest.raises(MalformedFileError, match=r"estimators/0\.json: it is damaged.*CRC"):
        persistence.load(saved)


def test_a_directory_named(tmp_path):
    with pytest.raises(MalformedFileError, match="is a directory, not a skdense file"):
        persistence.load(tmp_path)
    with pytest.raises(FileNotFoundError):
        persistence.load(tmp_path / "missing.skdense")


def _skops_members(path):
    return _members(_members(path)["object.skops"])


def test_damaged_skops_part_named(saved_pipe):
    skops = _skops_members(saved_pipe)
    npy = sorted(name for name in skops if name.endswith(".npy"))
    assert npy
    del skops[npy[0]]
    _rewrite(saved_pipe, "object.skops", _zip(skops.items()))
    with pytest.raises(MalformedFileError, match=rf"{saved_pipe}: object\.skops: the skops part is damaged"):
        persistence.load(saved_pipe)


def test_skops_schema_missing_a_key_named(saved_pipe):
    skops = _skops_members(saved_pipe)
    schema = json.loads(skops["schema.json"])

    def drop_file(node):  # an array node without the entry it is read from
        if isinstance(node, dict):
            if node.get("__loader__") == "NdArrayNode":
                node.pop("file")
                return True
            return any(drop_file(v) for v in node.values())
        if isinstance(node, list):
            return any(drop_file(v) for v in node)
        return False

    assert drop_file(schema)
    skops["schema.json"] = json.dumps(schema).encode()
    _rewrite(saved_pipe, "object.skops", _zip(skops.items()))
    with pytest.raises(MalformedFileError, match=rf"{saved_pipe}: object\.skops"):
        persistence.load(saved_pipe)


# -- what is loaded agrees with itself -------------------------------------------


def test_manifest_root_must_describe_the_file(saved_pipe):
    manifest = json.loads(_members(saved_pipe)["manifest.json"])
    manifest.update(root="estimator")
    _rewrite(saved_pipe, "manifest.json", json.dumps(manifest))
    with pytest.raises(MalformedFileError, match=r"does not describe its entries.*object\.skops"):
        persistence.load(saved_pipe)


def test_tampered_classes_refused(saved):
    swapped = _array("<U10", [3], ["virginica", "versicolor", "setosa"])
    _rewrite_record(saved, lambda r: r["fitted"]["attributes"].update(classes_=swapped))
    with pytest.raises(MalformedFileError, match="classes_ is.*but predict decodes"):
        persistence.load(saved)


def test_classes_that_the_network_does_not_output_refused(saved):
    def four_classes(record):
        four = _array("<U10", [4], ["a", "b", "c", "d"])
        record["fitted"]["attributes"]["classes_"] = four
        record["fitted"]["keras_estimator"]["target_encoder"]["classes"] = four
        record["fitted"]["keras_estimator"]["target"]["classes"] = four

    _rewrite_record(saved, four_classes)
    with pytest.raises(MalformedFileError, match="the network outputs 3 columns"):
        persistence.load(saved)


def test_n_features_in_must_match_the_network(saved):
    _rewrite_record(saved, lambda r: r["fitted"]["attributes"].update(n_features_in_=7))
    with pytest.raises(MalformedFileError, match="n_features_in_ is 7.*network takes 4 columns"):
        persistence.load(saved)


def test_tampered_keras_object_in_the_state_refused_at_load(saved):
    def lambda_loss(record):
        record["fitted"]["keras_estimator"]["params"]["loss"] = {
            "__keras__": {"module": "keras.layers", "class_name": "Lambda", "config": {}}}

    _rewrite_record(saved, lambda_loss)
    with pytest.raises(UntrustedContentError, match="Lambda"):
        persistence.load(saved)  # at load, not at the first use of model_


# -- save ------------------------------------------------------------------------


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_save_honours_the_umask(fitted, tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        persistence.save(fitted[0], tmp_path / "m.skdense")
    finally:
        os.umask(old)
    assert (tmp_path / "m.skdense").stat().st_mode & 0o777 == mode


def test_errors_are_public(fitted):
    assert issubclass(MalformedFileError, ValueError)
    assert issubclass(UntrustedContentError, ValueError)
    assert skdense.persistence.MalformedFileError is MalformedFileError


def test_a_network_keras_cannot_load_names_the_users_file_and_leaves_nothing(
        saved, private_tmp, monkeypatch):
    from skdense.persistence import _keras_files

    def fails(path):
        raise OSError(f"Unable to open {path}: truncated file")

    monkeypatch.setattr(_keras_files, "load_keras_model", fails)
    loaded = persistence.load(saved)  # predicts in NumPy: the network is loaded on first use
    with pytest.raises(MalformedFileError) as info:
        loaded.model_
    message = str(info.value)
    assert message.startswith(f"{saved}: estimators/0.keras: Keras could not load the network")
    assert str(private_tmp) not in message and "<network>" in message
    assert list(private_tmp.iterdir()) == []
