"""The public entrance of law enforcement (执法公开与办事入口): published inspection results and
penalty decisions for anyone, a business's own notices and deadlines behind a code sent to
its registered phone, and complaints about enforcement conduct."""
