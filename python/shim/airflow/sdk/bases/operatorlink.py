class BaseOperatorLink:
    name = ""

    def get_link(self, operator, *, ti_key):
        raise NotImplementedError
