# The second line shows which Python ran it: CPython here, PyPy for ok_hello_pypy3.pypy.
import platform

print("Hello, world!")
print(platform.python_implementation())
