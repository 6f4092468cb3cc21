from service_hub.org.models import DepartmentKind
from service_hub.org.tree import DepartmentTree
from tests.factories import DepartmentFactory


def test_tree_answers_scope_routing_and_queue_questions(app):
    centre = DepartmentFactory(kind=DepartmentKind.CENTRE, functions=["supervision"])
    front = DepartmentFactory(parent=centre, functions=["front_line", "dispatcher"])
    group = DepartmentFactory(parent=front, kind=DepartmentKind.GROUP)
    billing = DepartmentFactory(parent=centre, functions=["billing"])
    old_billing = DepartmentFactory(parent=centre, functions=["billing"], is_active=False)
    other = DepartmentFactory(kind=DepartmentKind.CENTRE)
    tree = DepartmentTree.load()
    assert tree.centre_of(group.id) == centre.id and tree.centre_of(other.id) == other.id
    assert tree.subtree(front.id) == {front.id, group.id}
    assert tree.with_ancestors([group.id]) == {group.id, front.id, centre.id}
    assert tree.functions_of(group.id) == {"front_line", "dispatcher", "supervision"}
    assert tree.functions_of(old_billing.id) == set()
    assert tree.with_function(centre.id, "billing") == billing.id
    assert tree.with_function(other.id, "billing") is None
    assert "billing" in tree.all_functions()
