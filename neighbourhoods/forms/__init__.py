from .groups import GroupForm, JoinCodeForm, NewJoinCodeForm, PostcodeForm

__all__ = ["GroupForm", "JoinCodeForm", "NewJoinCodeForm", "PostcodeForm"]
