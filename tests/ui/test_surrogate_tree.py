"""The surrogate tree widget on real decision trees fitted to the bundled data: one box per node
and one edge per child, a tidy layout (parents centred, no overlaps), leaf texts, zoom, click
selection, the placeholder and a rendered preview."""

import shutil

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.ui

PREVIEW = "/tmp/surrogate_tree_preview.png"


@pytest.fixture(scope="module")
def signals_matrix():
    from cncwear_gui.data.dataset import load_dataset
    from cncwear_gui.features.sets import get_feature_set, training_matrix
    from cncwear_gui.paths import bundled_dataset_dir

    fs = get_feature_set("signals")
    X, y, _ = training_matrix(load_dataset([bundled_dataset_dir()]).samples(), fs)
    return X, y, list(fs.columns)


def tree_nodes(X, y, names, max_depth: int) -> list[dict]:
    """A fitted sklearn tree as the explanation engine's node dicts."""
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(max_depth=max_depth, random_state=0).fit(X, y).tree_
    parents, depths = {0: None}, {0: 0}
    nodes = []
    for i in range(tree.node_count):
        left, right = int(tree.children_left[i]), int(tree.children_right[i])
        leaf = left == -1
        for kid in () if leaf else (left, right):
            parents[kid], depths[kid] = i, depths[i] + 1
        # value holds class fractions (sklearn >= 1.4): back to counts
        counts = [int(round(v * tree.weighted_n_node_samples[i])) for v in tree.value[i][0]]
        feature = None if leaf else names[tree.feature[i]]
        threshold = None if leaf else float(tree.threshold[i])
        nodes.append({
            "id": i, "parent": parents[i], "depth": depths[i], "feature": feature, "threshold": threshold,
            "left": None if leaf else left, "right": None if leaf else right,
            "samples": int(tree.n_node_samples[i]), "class_counts": counts,
            "rule": "" if leaf else f"{feature} <= {threshold:.2f}", "leaf": leaf,
        })
    return nodes


def full_tree(depth: int) -> list[dict]:
    """A complete synthetic tree (2**depth leaves): the widest layout the widget must handle."""
    nodes, next_id = [], 1
    frontier = [(0, None, 0)]
    while frontier:
        node_id, parent, d = frontier.pop(0)
        leaf = d == depth
        left, right = (None, None) if leaf else (next_id, next_id + 1)
        if not leaf:
            frontier += [(left, node_id, d + 1), (right, node_id, d + 1)]
            next_id += 2
        nodes.append({
            "id": node_id, "parent": parent, "depth": d, "feature": None if leaf else "M1_CURRENT_PROGRAM_NUMBER",
            "threshold": None if leaf else 1234.5, "left": left, "right": right, "samples": 100,
            "class_counts": [30 + d, 70 - d] if node_id % 2 else [80, 20], "rule": "", "leaf": leaf,
        })
    return nodes


@pytest.fixture
def view(qtbot):
    from cncwear_gui.ui.views.surrogate_tree import SurrogateTreeView

    widget = SurrogateTreeView()
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def assert_tidy(view, nodes):
    by_id = {n["id"]: n for n in nodes}
    for node in nodes:
        if not node["leaf"]:
            parent = view.node_rect(node["id"])
            left, right = view.node_rect(node["left"]), view.node_rect(node["right"])
            assert parent.center().x() == pytest.approx((left.center().x() + right.center().x()) / 2)
            assert parent.bottom() < left.top() and left.top() == right.top()  # children one level down
            assert left.center().x() < right.center().x()  # left = the rule holds = drawn left
    for depth in {n["depth"] for n in nodes}:
        rects = sorted((view.node_rect(i) for i, n in by_id.items() if n["depth"] == depth), key=lambda r: r.left())
        assert len({r.top() for r in rects}) == 1
        for a, b in zip(rects, rects[1:]):
            assert a.right() < b.left(), f"boxes overlap at depth {depth}"


def test_one_box_per_node_one_edge_per_child_and_a_tidy_layout(view, signals_matrix):
    nodes = tree_nodes(*signals_matrix, max_depth=6)
    assert max(n["depth"] for n in nodes) == 6
    view.set_tree(nodes)
    assert set(view.boxes) == {n["id"] for n in nodes}
    assert set(view.edges) == {n["id"] for n in nodes if n["parent"] is not None}
    assert view.message is None
    assert_tidy(view, nodes)
    # the contents: the split, the sample count, the class mix; leaves name their class
    root = view.node_text(0)
    assert f"{nodes[0]['feature']} ≤ " in root and f"samples = {len(signals_matrix[1]):,}" in root
    n_unworn, n_worn = nodes[0]["class_counts"]
    assert f"unworn {n_unworn:,} · worn {n_worn:,}" in root and f"worn {round(100 * n_worn / (n_unworn + n_worn))} %" in root
    for node in nodes:
        if node["leaf"]:
            unworn, worn = node["class_counts"]
            first_line = view.node_text(node["id"]).splitlines()[0]
            assert first_line == ("WORN" if worn > unworn else "UNWORN")
            assert view.boxes[node["id"]].childItems()[0].font().bold()  # not colour alone
    # the edges: yes to the left child, no to the right one
    assert view.edges[nodes[0]["left"]].childItems()[0].text() == "yes"
    assert view.edges[nodes[0]["right"]].childItems()[0].text() == "no"


def test_a_complete_depth_6_tree_stays_tidy_and_opens_readable(view):
    nodes = full_tree(6)
    assert sum(n["leaf"] for n in nodes) == 64
    view.set_tree(nodes)
    assert len(view.boxes) == 127 and len(view.edges) == 126
    assert_tidy(view, nodes)
    # too wide to fit legibly: it opens at a readable scale on the root; fit shows it all
    from cncwear_gui.ui.views.surrogate_tree import READABLE_SCALE

    assert view.scale_factor == pytest.approx(READABLE_SCALE)
    assert view.mapToScene(view.viewport().rect()).boundingRect().contains(view.node_rect(0).center())
    view.fit()
    assert view.scale_factor < READABLE_SCALE
    assert view.mapToScene(view.viewport().rect()).boundingRect().contains(view.scene().itemsBoundingRect())


def test_zoom_and_wheel_change_the_scale(view, signals_matrix, qtbot):
    view.set_tree(tree_nodes(*signals_matrix, max_depth=4))
    before = view.scale_factor
    view.zoom_in()
    assert view.scale_factor == pytest.approx(before * 1.25)
    view.zoom_out()
    view.zoom_out()
    assert view.scale_factor == pytest.approx(before / 1.25)
    qtbot.keyClick(view, Qt.Key_Plus)
    assert view.scale_factor == pytest.approx(before)


def test_clicking_a_node_selects_it(view, signals_matrix, qtbot):
    nodes = tree_nodes(*signals_matrix, max_depth=4)
    view.set_tree(nodes)
    leaf = next(n["id"] for n in nodes if n["leaf"])
    for node_id in (0, leaf):
        view.centerOn(view.node_rect(node_id).center())
        point = view.mapFromScene(view.node_rect(node_id).center())
        with qtbot.waitSignal(view.node_selected, timeout=1000) as signal:
            qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=point)
        assert signal.args == [node_id]
        assert view.selected_node == node_id and view.boxes[node_id].selected
    assert not view.boxes[0].selected  # the highlight moved
    # a click on empty canvas selects nothing
    with qtbot.assertNotEmitted(view.node_selected):
        corner = view.scene().sceneRect().topLeft()
        view.centerOn(corner)
        qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=view.mapFromScene(corner))


def test_empty_tree_and_clear_show_the_placeholder(view, signals_matrix):
    view.set_tree(tree_nodes(*signals_matrix, max_depth=2))
    view.select_node(0)
    view.clear_tree("Fit a surrogate to see its tree.")
    assert view.boxes == {} and view.edges == {} and view.selected_node is None
    assert view.message == "Fit a surrogate to see its tree."
    texts = [item.text() for item in view.scene().items()]
    assert texts == ["Fit a surrogate to see its tree."]
    # centred in the view
    centre = view.mapFromScene(view.scene().itemsBoundingRect().center())
    assert abs(centre.x() - view.viewport().width() / 2) <= 2 and abs(centre.y() - view.viewport().height() / 2) <= 2
    view.set_tree([])
    assert view.message and len(view.scene().items()) == 1 and view.boxes == {}


def test_renders_a_depth_4_tree_to_png(view, signals_matrix, tmp_path):
    view.set_tree(tree_nodes(*signals_matrix, max_depth=4))
    view.fit()
    path = tmp_path / "tree.png"
    assert view.grab().save(str(path))
    assert path.stat().st_size > 20_000  # boxes, bars and text, not a blank canvas
    shutil.copyfile(path, PREVIEW)
