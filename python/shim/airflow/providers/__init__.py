from leoflow_rt.unsupported import module_getattr

__getattr__ = module_getattr(__name__)
